import { configSchema } from '../src/config/schema.js';

/**
 * A backend provider for a benchmark: the methods given, and every other one rejecting with a
 * message that names it, so a benchmark that strays from what it meant to measure fails loudly.
 */
export function fakeProvider<T extends object>(methods: Partial<T>): T {
  return new Proxy(methods as T, {
    get(target, prop) {
      const f = (target as Record<PropertyKey, unknown>)[prop];
      if (f) return f;
      return () => Promise.reject(new Error(`bench fake: ${String(prop)} is not implemented`));
    },
  });
}

/** The configuration of one production environment whose backends are in-process fakes. */
export function fakeProdConfig(namespaces: string[]) {
  return configSchema.parse({
    environments: {
      prod: {
        tier: 'production',
        kubernetes: { namespaces },
        // Never dialled: the fakes answer in-process.
        datadog: { base_url: 'http://127.0.0.1:9' },
        alertmanager: { url: 'http://127.0.0.1:9' },
      },
    },
  });
}
