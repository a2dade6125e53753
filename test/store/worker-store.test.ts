import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { openStore } from '../../src/store/open-store.js';
import { StoreUnavailableError, type Store } from '../../src/store/store.js';
import { holdSqliteLock, type HeldLock } from '../fixtures/hold-sqlite-lock.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LEAVE = fileURLToPath(new URL('./fixtures/open-and-leave.ts', import.meta.url));

/** The thread behind a SQLite store (private: only these tests reach for it). */
const workerOf = (store: Store) => (store as unknown as { worker: Worker | undefined }).worker;

/** How long `work` took to fail, and with what (undefined when it did not fail). */
const failure = async (work: Promise<unknown>) => {
  const t0 = performance.now();
  const error = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, ms: performance.now() - t0 };
};

describe('the SQLite store in its worker thread', () => {
  let dir: string;
  let path: string;
  let lock: HeldLock | undefined;
  const open: Store[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'day2-worker-'));
    path = join(dir, 'day2.db');
  });
  afterEach(async () => {
    await lock?.release();
    lock = undefined;
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const openTracked = async (spec: string, opts: Parameters<typeof openStore>[1] = {}) => {
    const store = await openStore(spec, opts);
    open.push(store);
    return store;
  };

  it('fails calls on a locked file within the timeout, and never carries them out once it is free', async () => {
    const store = await openTracked(path, { timeoutMs: 800 });
    await store.putDoc('incidents', 'kept', { n: 1 });
    const head = await store.auditHead();
    lock = await holdSqliteLock(path);

    // Sent together: the later ones queue in the worker behind the first, which waits for the lock.
    const calls = await Promise.all([
      failure(store.putDoc('incidents', 'a', { n: 1 })),
      failure(store.putDoc('incidents', 'kept', { n: 2 }, 1)),
      failure(store.appendAudit({ event: 'tool.execute', tool: 'scale_deployment' })),
    ]);
    for (const c of calls) {
      expect(c.error).toBeInstanceOf(StoreUnavailableError);
      expect((c.error as Error).message).toMatch(
        /is locked by another process: gave up within 800 ms \(store\.timeout\)|did not answer within 800 ms \(store\.timeout\)/,
      );
      expect(c.ms).toBeLessThan(800 + 1000);
    }

    await lock.release();
    lock = undefined;
    // Long enough for a call still waiting in the worker to have committed late.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await store.getDoc('incidents', 'a')).toBeUndefined();
    expect(await store.getDoc('incidents', 'kept')).toMatchObject({ version: 1, value: { n: 1 } });
    expect(await store.auditHead()).toEqual(head);
    // And the store works again.
    expect((await store.putDoc('incidents', 'a', { n: 1 })).version).toBe(1);
  });

  it("stamps documents with the caller's clock, not the worker's", async () => {
    const clock = new ManualClock(Date.parse('2031-02-03T04:05:06Z'));
    const store = await openTracked(path, { clock });
    expect((await store.putDoc('rotations', 'r1', {})).updated_at).toBe('2031-02-03T04:05:06.000Z');
    clock.advance(60_000);
    const rec = await store.appendAudit({ event: 'tool_call' });
    expect(rec.ts).toBe('2031-02-03T04:06:06.000Z');
  });

  it('streams in batches, and a reader that stops early leaves the store usable', async () => {
    const store = await openTracked(path);
    for (let i = 0; i < 7; i++) await store.appendAudit({ event: 'tool_call', detail: { i } });
    const first: number[] = [];
    for await (const batch of store.scanChain!(2)) {
      first.push(...batch.map(([seq]) => seq));
      break;
    }
    expect(first).toEqual([1, 2]);
    const sizes: number[] = [];
    for await (const batch of store.scanAudit(3)) sizes.push(batch.length);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('starts a new worker after its worker dies, and fails what was in flight', async () => {
    const store = await openTracked(path, { timeoutMs: 2000 });
    await store.appendAudit({ event: 'tool_call' });
    const first = workerOf(store)!;
    lock = await holdSqliteLock(path);
    // Watched before the worker is stopped: on a loaded machine the call's own deadline may pass
    // while terminate() waits for the thread to leave SQLite's busy wait.
    const inFlight = expect(store.appendAudit({ event: 'tool_call' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await first.terminate();
    await inFlight;
    await lock.release();
    lock = undefined;

    // The next call starts another thread on the same file; nothing was lost.
    expect(await store.auditHead()).toMatchObject({ seq: 1 });
    expect(workerOf(store)).toBeDefined();
    expect(workerOf(store)).not.toBe(first);
  });

  it('reports an in-memory store whose worker died as gone, rather than starting an empty one', async () => {
    const store = await openTracked(':memory:');
    await store.appendAudit({ event: 'tool_call' });
    // One store is one worker: another in-memory store is another database.
    const other = await openTracked(':memory:');
    expect(await other.auditHead()).toBeUndefined();

    await workerOf(store)!.terminate();
    await expect(store.auditHead()).rejects.toThrow(/in-memory SQLite store is gone/);
    expect(await other.auditHead()).toBeUndefined();
  });

  it('ends its worker on close, and refuses calls after', async () => {
    const store = await openStore(path);
    await store.appendAudit({ event: 'tool_call' });
    const exited = once(workerOf(store)!, 'exit');
    await store.close();
    await exited;
    await expect(store.auditHead()).rejects.toThrow(/is closed/);
    // The file was closed cleanly: another store opens it and sees the record.
    expect(await (await openTracked(path)).auditHead()).toMatchObject({ seq: 1 });
  });

  it('never keeps a process running, and never writes to its stdout', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', LEAVE, path], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(killer);
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('appended 1');
    expect(stdout).toBe('');
  });
});
