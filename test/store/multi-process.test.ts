import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import type { Store } from '../../src/store/store.js';
import { backends } from './fixtures/backends.js';
import type { TestBackend } from './fixtures/backends.js';

const WORKER = fileURLToPath(new URL('./fixtures/append-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts a worker process and resolves once it has opened the store. */
async function startWorker(
  spec: string,
  label: string,
  count: number,
  mode: 'direct' | 'log',
  thread: 'worker' | 'caller',
) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER, spec, label, String(count), mode, thread],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let stdout = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('ready')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`worker ${label} exited with ${code} before it was ready: ${stderr}`)),
    );
  });
  await ready;
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { go: () => child.stdin.end('go\n'), exited };
}

describe.each(backends)('two processes appending to one $name store', (factory) => {
  let backend: TestBackend;
  let store: Store;

  beforeEach(async () => {
    backend = await factory.create();
    store = await backend.open();
  });

  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  // `caller`: SQLite on each process's own thread, as stdio servers open it, which try a locked
  // file again on timers rather than wait in SQLite.
  it.each([
    ['direct', 'worker'],
    ['log', 'worker'],
    ['direct', 'caller'],
  ] as const)('never fork the chain (%s appends, store on a %s thread)', async (mode, thread) => {
    if (thread === 'caller') {
      await store.close();
      store = await backend.open({ thread: 'caller' });
    }
    const workers = await Promise.all([
      startWorker(backend.spec, 'p1', 150, mode, thread),
      startWorker(backend.spec, 'p2', 150, mode, thread),
    ]);
    // This process appends too, at the same time.
    const local = Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.appendAudit({ event: 'tool_call', principal: 'p0', detail: { i } }),
      ),
    );
    for (const w of workers) w.go();
    const [results] = await Promise.all([Promise.all(workers.map((w) => w.exited)), local]);
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });

    expect(await verifyAudit(store)).toMatchObject({ ok: true, records: 330 });
    for (const [label, n] of [
      ['p0', 30],
      ['p1', 150],
      ['p2', 150],
    ] as const) {
      const rows = await store.queryAudit({ principal: label, limit: 1000 });
      expect(
        rows.map((r) => (JSON.parse(r.record) as { detail: { i: number } }).detail.i).sort((a, b) => a - b),
      ).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });
});
