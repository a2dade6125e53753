import type { BuiltBackends } from './build-backends.js';
import type { Runtime } from './runtime.js';
import type { Backends } from '../providers/backends.js';

/**
 * Stands in for the backends while they start (`day2 serve` answers initialize first). Nothing
 * reaches it: handlers that need backends wait for Runtime.ready.
 */
export const notReadyBackends: Backends = new Proxy({} as Backends, {
  get(_target, prop) {
    if (prop === 'then') return undefined;
    return () => {
      throw new Error('backends are still starting');
    };
  },
});

/**
 * Puts started backends, the catalog and what configuration they bring (the sandbox's
 * environments and its fleet's rotation policy) into a running runtime.
 */
export function applyBackends(
  rt: Runtime,
  built: Pick<BuiltBackends, 'backends' | 'catalog' | 'environments' | 'rotation'>,
): void {
  Object.assign(rt.deps.config.environments, built.environments);
  if (built.rotation) Object.assign(rt.deps.config.rotation, built.rotation);
  rt.deps.backends = built.backends;
  rt.deps.catalog = built.catalog;
}
