import { BackendError, BackendUnavailableError } from './errors.js';

/** Method names that only read: these may be retried. Everything else is a write and is not. */
export const READ_METHOD = /^(list|get|describe|search|active|preview)[A-Z]|^podMetrics$/;

export interface ResilienceOptions {
  /** Backend name for errors (`kubernetes`, `datadog`, ...). */
  backend: string;
  /** Retries after the first attempt (config `backends.retries`). */
  retries: number;
  /** Bound on each attempt of a read (config `backends.timeout`). */
  timeoutMs: number;
  /** First backoff step; doubles per retry (default 200 ms). */
  baseDelayMs?: number;
  /** Cap on a wait the backend asks for with Retry-After (default 10 s). */
  maxRetryAfterMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called before each retry (logging). */
  onRetry?: (info: { method: string; attempt: number; delayMs: number; error: BackendError }) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before retry number `attempt` (1-based): Retry-After when given (capped), else backoff with jitter. */
export function retryDelay(err: BackendError, attempt: number, opts: ResilienceOptions): number {
  const cap = opts.maxRetryAfterMs ?? 10_000;
  if (err.retryAfterMs !== undefined) return Math.min(Math.max(0, err.retryAfterMs), cap);
  const base = (opts.baseDelayMs ?? 200) * 2 ** (attempt - 1);
  // "Equal jitter": half fixed, half random, so that retrying clients spread out.
  return Math.round(base / 2 + (opts.random ?? Math.random)() * (base / 2));
}

function bounded<T>(p: Promise<T>, ms: number, backend: string, method: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendUnavailableError(backend, `${method} did not answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wraps a provider so that its read methods (list*, get*, describe*, search*, active*, preview*,
 * podMetrics) are bounded by a timeout per attempt and retried when the backend is unavailable or
 * throttling: exponential backoff with jitter, or the wait the backend asked for. Writes pass
 * through untouched: never retried (a retried write may apply twice) and never cut short (the
 * providers bound them with their own request timeouts, which cancel the request itself).
 */
export function resilient<T extends object>(provider: T, opts: ResilienceOptions): T {
  const sleep = opts.sleep ?? defaultSleep;
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(provider, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || !READ_METHOD.test(prop)) {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      let fn = wrapped.get(prop);
      if (!fn) {
        const method = value as (...a: unknown[]) => Promise<unknown>;
        fn = async (...args: unknown[]) => {
          for (let attempt = 1; ; attempt++) {
            try {
              return await bounded(
                Promise.resolve(method.apply(target, args)),
                opts.timeoutMs,
                opts.backend,
                prop,
              );
            } catch (err) {
              if (!(err instanceof BackendError) || !err.retryable || attempt > opts.retries) throw err;
              const delayMs = retryDelay(err, attempt, opts);
              opts.onRetry?.({ method: prop, attempt, delayMs, error: err });
              await sleep(delayMs);
            }
          }
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
