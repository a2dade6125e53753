import { describe, expect, it } from 'vitest';
import { withEnvironments, type BuiltBackends } from '../../src/server/build-backends.js';
import { configSchema } from '../../src/config/schema.js';
import { applyBackends, notReadyBackends } from '../../src/server/runtime-backends.js';
import type { Runtime } from '../../src/server/runtime.js';
import { Catalog } from '../../src/catalog/catalog.js';

const built: Pick<BuiltBackends, 'backends' | 'catalog' | 'environments' | 'rotation'> = {
  backends: notReadyBackends,
  catalog: Catalog.empty(),
  environments: { sbx: { tier: 'staging', databases: {} } },
  rotation: { max_age_days: 30, warn_days: 7 },
};

describe('what the sandbox brings into the configuration', () => {
  it('a running runtime takes the environments and the fleet rotation policy, keeping the rest', () => {
    const config = configSchema.parse({ rotation: { verify_window: '5s' } });
    const rt = { deps: { config } } as unknown as Runtime;
    applyBackends(rt, built);
    expect(Object.keys(config.environments)).toEqual(['sbx']);
    expect(config.rotation).toEqual({
      max_age_days: 30,
      warn_days: 7,
      verify_window: 5000,
      restart_timeout: 300_000,
    });
  });

  it('withEnvironments does the same for a configuration not yet in a runtime, and leaves the input alone', () => {
    const config = configSchema.parse({});
    const loaded = { config, baseDir: '/tmp', store: '/tmp/day2.db' };
    const next = withEnvironments(loaded, built);
    expect(next.config.rotation.max_age_days).toBe(30);
    expect(next.config.environments.sbx?.tier).toBe('staging');
    expect(config.rotation.max_age_days).toBe(90);
    expect(withEnvironments(loaded, { environments: {} })).toBe(loaded);
  });

  it('a fleet without a rotation policy leaves the configured one alone', () => {
    const config = configSchema.parse({ rotation: { max_age_days: 45, warn_days: 5 } });
    const next = withEnvironments(
      { config, baseDir: '/tmp', store: '/tmp/day2.db' },
      { environments: built.environments },
    );
    expect(next.config.rotation).toMatchObject({ max_age_days: 45, warn_days: 5 });
    const rt = { deps: { config } } as unknown as Runtime;
    applyBackends(rt, { ...built, rotation: undefined });
    expect(config.rotation).toMatchObject({ max_age_days: 45, warn_days: 5 });
  });
});
