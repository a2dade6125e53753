import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import { CALL_METHODS } from './sqlite-worker-protocol.js';
import { SqliteStore } from './sqlite-store.js';
import { StoreUnavailableError, type Store } from './store.js';

/** The longest pause between two tries at a lock another process holds. */
const MAX_PAUSE_MS = 100;

/**
 * The SQLite store on the caller's thread, for a process that serves one client (day2 serve on
 * stdio). A worker thread (WorkerSqliteStore) costs 15–20 MB and a tenth of a second at start-up;
 * what it buys, an event loop that never waits for another process's lock, this store gets by
 * never letting SQLite wait: its busy timeout is 0, and a call that finds the file locked is tried
 * again after a pause (5 ms, doubling to 100 ms) on a timer, until `timeoutMs` (store.timeout)
 * has passed. A locked call changed nothing (the write lock is taken by BEGIN IMMEDIATE, before
 * any write), so trying it again is safe. What still runs on this thread is SQLite's own work: a
 * commit's fsync and a query, milliseconds each.
 */
export function openYieldingSqliteStore(
  path: string,
  opts: { clock?: Clock; readOnly?: boolean; timeoutMs?: number } = {},
): Store {
  const timeoutMs = opts.timeoutMs ?? 3000;
  // Opening (and migrating) may wait for the lock once, at start-up, as a worker's open would.
  const inner = SqliteStore.open(path, {
    clock: opts.clock,
    readOnly: opts.readOnly,
    busyTimeoutMs: timeoutMs,
  });
  inner.setBusyTimeout(0);
  const retried = new Set<PropertyKey>(CALL_METHODS);
  const locked = () =>
    new StoreUnavailableError(
      `SQLite store ${path} is locked by another process: gave up within ${timeoutMs} ms (store.timeout) and changed nothing`,
    );
  const tryUntilFree = async (call: () => Promise<unknown>): Promise<unknown> => {
    const deadline = performance.now() + timeoutMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
      try {
        return await call();
      } catch (err) {
        if (!isLocked(err)) throw err;
        const left = deadline - performance.now();
        if (left <= 0) throw locked();
        await sleep(Math.min(pause, left));
      }
    }
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!retried.has(prop)) return method.bind(target);
      return (...args: unknown[]) => tryUntilFree(() => method.apply(target, args) as Promise<unknown>);
    },
  });
}

/** SQLITE_BUSY or SQLITE_LOCKED under the store's translation: another connection holds the lock. */
function isLocked(err: unknown): boolean {
  if (!(err instanceof StoreUnavailableError)) return false;
  const code = (err.cause as { errcode?: unknown } | undefined)?.errcode;
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
}
