import type { Telemetry } from '../core/telemetry.js';
import type { BackendName, Backends } from './backends.js';

/**
 * `backends` with every provider call that returns a promise wrapped in a client span named
 * `{backend} {method}` (`kubernetes scaleDeployment`), a child of the current request. Arguments and
 * results are never recorded: they may hold secret values. Applied once where the runtime is
 * assembled, so every tool's backend calls are traced without the tools knowing.
 */
export function tracedBackends(backends: Backends, telemetry: Telemetry): Backends {
  // Per provider and environment: one provider may serve several environments.
  const byProvider = new WeakMap<object, Map<string | undefined, object>>();
  const traced = <P extends object>(backend: BackendName, env: string | undefined, provider: P): P => {
    let byEnv = byProvider.get(provider);
    if (!byEnv) byProvider.set(provider, (byEnv = new Map<string | undefined, object>()));
    let proxy = byEnv.get(env) as P | undefined;
    if (proxy) return proxy;
    const wrapped = new Map<PropertyKey, unknown>();
    proxy = new Proxy(provider, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
        let fn = wrapped.get(prop);
        if (!fn) {
          const attributes = {
            'day2.backend': backend,
            'day2.backend.operation': prop,
            ...(env !== undefined ? { 'day2.env': env } : {}),
          };
          const original = value as (...args: unknown[]) => unknown;
          fn = (...args: unknown[]) =>
            telemetry.span(`${backend} ${prop}`, 'client', attributes, () => original.apply(target, args));
          wrapped.set(prop, fn);
        }
        return fn;
      },
    });
    byEnv.set(env, proxy);
    return proxy;
  };
  return {
    has: (env, backend) => backends.has(env, backend),
    kubernetes: (env) => traced('kubernetes', env, backends.kubernetes(env)),
    datadog: (env) => traced('datadog', env, backends.datadog(env)),
    alertmanager: (env) => traced('alertmanager', env, backends.alertmanager(env)),
    secrets: (env) => traced('secrets-manager', env, backends.secrets(env)),
    registry: (env) => {
      const reg = backends.registry(env);
      return { ...reg, client: traced('registry', env, reg.client) };
    },
    // A getter: the sandbox may hand its PostgreSQL provider over once it is up.
    get postgres() {
      return traced('postgres', undefined, backends.postgres);
    },
  };
}
