/**
 * A provider built on first use. `lazy(factory)` returns an object whose every method awaits the
 * factory (once; a failed build is retried on the next call) and then calls the real provider's
 * method, so start-up never imports a heavy SDK or reads a kubeconfig. Synchronous properties the
 * interface requires (such as `namespaces`) are given up front in `known`.
 */
export function lazy<T extends object>(factory: () => Promise<T>, known: Partial<T> = {}): T {
  let building: Promise<T> | undefined;
  const instance = (): Promise<T> => {
    building ??= factory().catch((err: unknown) => {
      building = undefined;
      throw err;
    });
    return building;
  };
  const methods = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  return new Proxy(known as T, {
    get(target, prop) {
      if (Object.prototype.hasOwnProperty.call(target, prop))
        return (target as Record<PropertyKey, unknown>)[prop];
      // Not a thenable, not inspectable: only string-named methods are forwarded.
      if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return undefined;
      let m = methods.get(prop);
      if (!m) {
        m = async (...args: unknown[]) => {
          const real = await instance();
          const fn = (real as Record<string, unknown>)[prop];
          if (typeof fn !== 'function') throw new TypeError(`provider has no method ${prop}`);
          return (fn as (...a: unknown[]) => Promise<unknown>).apply(real, args);
        };
        methods.set(prop, m);
      }
      return m;
    },
  });
}
