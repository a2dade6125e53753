import { describe, expect, it } from 'vitest';
import type { Deps } from '../../src/contract/deps.js';
import { ToolError } from '../../src/contract/define-tool.js';
import { resolveEnvWith } from '../../src/tools/context/resolve-service.js';

const deps = {
  config: { environments: { prod: {}, dev: {} } },
  backends: { has: (env: string, backend: string) => env === 'prod' && backend === 'kubernetes' },
} as unknown as Deps;

const refusal = (env: string, backend: Parameters<typeof resolveEnvWith>[2]) => {
  try {
    resolveEnvWith(deps, env, backend);
  } catch (err) {
    return err as ToolError;
  }
  throw new Error('not refused');
};

describe('resolveEnvWith', () => {
  it('returns an environment that has the backend', () => {
    expect(resolveEnvWith(deps, 'prod', 'kubernetes')).toBe('prod');
  });

  it('names the environment and the day2.yaml key when the backend is missing', () => {
    const err = refusal('dev', 'secrets-manager');
    expect(err).toBeInstanceOf(ToolError);
    expect(err.message).toBe(
      'env: environment "dev" has no AWS Secrets Manager configured (environments.dev.aws)',
    );
    expect([err.code, err.field]).toEqual(['not_configured', 'env']);
    expect(refusal('prod', 'alertmanager').message).toContain('(environments.prod.alertmanager)');
  });

  it('refuses an unknown environment first, listing the configured ones', () => {
    expect(refusal('qa', 'kubernetes').message).toBe('env: no environment "qa"; configured: prod, dev');
  });
});
