import { environmentConfig } from '../../config/lookup.js';
import type { Deps } from '../../contract/deps.js';
import type { CatalogService } from '../../catalog/model.js';
import type { BackendName } from '../../providers/backends.js';
import { ToolError } from '../../contract/define-tool.js';

/** The catalog service a tool argument names, or a ToolError that suggests close names. */
export function resolveService(deps: Deps, name: string): CatalogService {
  const s = deps.catalog.service(name);
  if (s) return s;
  const close = deps.catalog.completeServiceNames(name.slice(0, 3), 5);
  throw new ToolError(
    `service: no service "${name}" in the catalog${close.length ? `; did you mean ${close.join(', ')}?` : ''}`,
    'not_found',
    'service',
  );
}

/** The environment a tool argument names, or a ToolError listing the configured ones. */
export function resolveEnv(deps: Deps, env: string): string {
  if (environmentConfig(deps.config, env)) return env;
  throw new ToolError(
    `env: no environment "${env}"; configured: ${Object.keys(deps.config.environments).join(', ') || 'none'}`,
    'not_found',
    'env',
  );
}

const BACKEND_CONFIG: Record<Exclude<BackendName, 'postgres'>, { label: string; key: string }> = {
  kubernetes: { label: 'Kubernetes', key: 'kubernetes' },
  datadog: { label: 'Datadog', key: 'datadog' },
  alertmanager: { label: 'Alertmanager', key: 'alertmanager' },
  'secrets-manager': { label: 'AWS Secrets Manager', key: 'aws' },
  registry: { label: 'container registry', key: 'registry' },
};

/**
 * The environment a tool argument names, when it has `backend` configured; otherwise a ToolError
 * naming the environment and the day2.yaml key that would configure it.
 */
export function resolveEnvWith(
  deps: Deps,
  envName: string,
  backend: Exclude<BackendName, 'postgres'>,
): string {
  const env = resolveEnv(deps, envName);
  if (!deps.backends.has(env, backend)) {
    const { label, key } = BACKEND_CONFIG[backend];
    throw new ToolError(
      `env: environment "${env}" has no ${label} configured (environments.${env}.${key})`,
      'not_configured',
      'env',
    );
  }
  return env;
}
