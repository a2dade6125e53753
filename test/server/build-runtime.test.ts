import { afterEach, describe, expect, it } from 'vitest';
import { withEnvironments, type BuiltBackends } from '../../src/server/build-backends.js';
import { configSchema } from '../../src/config/schema.js';
import { assembleRuntime, openRuntimeCore, type RuntimeCore } from '../../src/server/build-runtime.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import { Catalog } from '../../src/catalog/catalog.js';
import type { Backends } from '../../src/providers/backends.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';

const built: Pick<BuiltBackends, 'environments' | 'rotation'> = {
  environments: { sbx: { tier: 'staging', databases: {} } },
  rotation: { max_age_days: 30, warn_days: 7 },
};

describe('what the sandbox brings into the configuration', () => {
  it('withEnvironments merges the environments and the fleet rotation policy, and leaves the input alone', () => {
    const config = configSchema.parse({ rotation: { verify_window: '5s' } });
    const loaded = { config, baseDir: '/tmp', store: '/tmp/day2.db' };
    const next = withEnvironments(loaded, built);
    expect(next.config.rotation).toEqual({
      max_age_days: 30,
      warn_days: 7,
      verify_window: 5000,
      restart_timeout: 300_000,
    });
    expect(next.config.environments.sbx?.tier).toBe('staging');
    expect(config.rotation.max_age_days).toBe(90);
    expect(Object.keys(config.environments)).toEqual([]);
    expect(withEnvironments(loaded, { environments: {} })).toBe(loaded);
  });

  it('a fleet without a rotation policy leaves the configured one alone', () => {
    const config = configSchema.parse({ rotation: { max_age_days: 45, warn_days: 5 } });
    const next = withEnvironments(
      { config, baseDir: '/tmp', store: '/tmp/day2.db' },
      { environments: built.environments },
    );
    expect(next.config.rotation).toMatchObject({ max_age_days: 45, warn_days: 5 });
  });
});

describe('a runtime is built once, complete', () => {
  let t: TestEnv | undefined;
  let core: RuntimeCore | undefined;
  afterEach(async () => {
    await core?.close();
    t?.cleanup();
    core = t = undefined;
  });

  it('over one core, serves the configuration it was given, and nothing in it can be replaced', async () => {
    t = makeTestEnv();
    const loaded = loadConfig({ path: t.configPath, env: t.env });
    core = await openRuntimeCore({ loaded, log: silentLogger, redactor: new Redactor(), env: t.env });
    const backends = { close: () => Promise.resolve() } as unknown as Backends;
    const rt = assembleRuntime(core, {
      loaded: withEnvironments(loaded, built),
      backends,
      catalog: Catalog.empty(),
      registry: { tools: [], resources: [], prompts: [] },
    });
    expect(rt.tierOf('sbx')).toBe('staging');
    expect(rt.tierOf('prod')).toBe('production');
    expect(rt.deps.config.rotation.max_age_days).toBe(30);
    // The configuration the core was opened with is not changed by the sandbox's environments.
    expect(loaded.config.environments.sbx).toBeUndefined();
    expect(rt.deps.backends).toBe(backends);
    expect(() => {
      (rt.deps as { backends: unknown }).backends = {};
    }).toThrow(TypeError);
    expect(() => {
      (rt as { tools: unknown }).tools = [];
    }).toThrow(TypeError);
    // The approvals and the audit log are the core's: one store, one chain.
    expect(rt.auditLog).toBe(core.auditLog);
    expect(rt.deps.store).toBe(core.store);
    expect(rt.deps.redactor).toBe(core.redactor);
  });
});
