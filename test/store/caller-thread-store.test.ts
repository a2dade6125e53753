import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { holdSqliteLock, type HeldLock } from '../fixtures/hold-sqlite-lock.js';

// A stdio server keeps its SQLite connection on its own thread (no worker thread's memory and
// start-up). What the worker gave, an event loop that never waits for another process's lock, it
// keeps: SQLite never waits, and a locked call is tried again on timers until store.timeout.

/** The event loop's longest stall while `work` runs, measured by a 10 ms ticker. */
async function stallOf<T>(
  work: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; ms: number; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  const t0 = performance.now();
  try {
    const value = await work();
    return { value, ms: performance.now() - t0, stallMs };
  } catch (error) {
    return { error, ms: performance.now() - t0, stallMs };
  } finally {
    clearInterval(ticker);
  }
}

describe("the SQLite store on the caller's thread", () => {
  let dir: string;
  let path: string;
  let lock: HeldLock | undefined;
  let store: Store | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'day2-caller-store-'));
    path = join(dir, 'day2.db');
  });
  afterEach(async () => {
    await lock?.release();
    lock = undefined;
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for a lock on timers, not by blocking, and gives up within store.timeout having changed nothing', async () => {
    store = await openStore(path, { timeoutMs: 800, thread: 'caller' });
    await store.putDoc('incidents', 'kept', { n: 1 });
    const head = await store.auditHead();
    lock = await holdSqliteLock(path);

    const s = store;
    const r = await stallOf(() =>
      Promise.allSettled([
        s.putDoc('incidents', 'a', { n: 1 }),
        s.putDoc('incidents', 'kept', { n: 2 }, 1),
        s.appendAudit({ event: 'tool.execute', tool: 'scale_deployment' }),
      ]),
    );
    for (const c of r.value!) {
      expect(c.status).toBe('rejected');
      const err = (c as PromiseRejectedResult).reason as Error;
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(err.message).toMatch(
        /is locked by another process: gave up within 800 ms \(store\.timeout\) and changed nothing/,
      );
    }
    expect(r.ms).toBeGreaterThanOrEqual(750);
    expect(r.ms).toBeLessThan(800 + 700);
    // A blocking busy wait would have stalled the loop for the whole 800 ms.
    expect(r.stallMs).toBeLessThan(300);

    await lock.release();
    lock = undefined;
    expect(await store.getDoc('incidents', 'a')).toBeUndefined();
    expect(await store.getDoc('incidents', 'kept')).toMatchObject({ version: 1, value: { n: 1 } });
    expect(await store.auditHead()).toEqual(head);
  });

  it('carries out a call once the lock is released within store.timeout', async () => {
    store = await openStore(path, { timeoutMs: 3000, thread: 'caller' });
    await store.putDoc('incidents', 'warm', { n: 1 });
    lock = await holdSqliteLock(path);
    const held = lock;
    setTimeout(() => void held.release(), 300);
    const s = store;
    const r = await stallOf(() => s.appendAudit({ event: 'tool.execute', tool: 'scale_deployment' }));
    lock = undefined;
    expect(r.error).toBeUndefined();
    expect(r.value).toMatchObject({ seq: 1 });
    expect(r.ms).toBeGreaterThanOrEqual(250);
    expect(r.stallMs).toBeLessThan(300);
    expect((await store.queryAudit({ limit: 10 })).map((x) => x.seq)).toEqual([1]);
  });
});
