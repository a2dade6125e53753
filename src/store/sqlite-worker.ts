/**
 * The worker thread behind WorkerSqliteStore: it owns the one SQLite connection (the synchronous
 * SqliteStore) and answers the main thread's requests one at a time, in the order they came. It
 * may block on a lock or a slow disk; the main thread's event loop never does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from './sqlite-store.js';
import { toWire } from './sqlite-worker-protocol.js';
import type {
  CallMethod,
  StreamMethod,
  StreamStep,
  WorkerInit,
  WorkerReply,
  WorkerRequest,
} from './sqlite-worker-protocol.js';

/**
 * How much sooner than the caller's deadline SQLite gives up waiting for a lock: a tenth of the time
 * left, at least 150 ms. The busy handler sleeps in steps of up to 100 ms and a loaded machine
 * delays the answer further, and the lock error should reach the caller before its own timer
 * fires, because it says more.
 */
const lockWaitMs = (left: number) => left - Math.max(150, left / 10);

if (!parentPort) throw new Error('sqlite-worker.ts runs only as a worker thread (see WorkerSqliteStore)');
const port = parentPort;
const init = workerData as WorkerInit;
const post = (reply: WorkerReply) => port.postMessage(reply);

// The store reads the time from the main thread's clock, which each request carries.
let now = Date.now();
const store = openOrReport();
const streams = new Map<number, AsyncIterator<unknown[]>>();
let queue = Promise.resolve();

if (store) {
  port.on('message', (msg: WorkerRequest) => {
    queue = queue.then(() => handle(store, msg));
  });
  post({ op: 'ready' });
}

/** Opens the store, or tells the main thread why it cannot and lets the thread end. */
function openOrReport(): SqliteStore | undefined {
  try {
    return SqliteStore.open(init.path, { readOnly: init.readOnly, clock: { now: () => new Date(now) } });
  } catch (err) {
    post({ op: 'open_failed', error: toWire(err) });
    port.close();
    return undefined;
  }
}

async function handle(store: SqliteStore, msg: WorkerRequest): Promise<void> {
  switch (msg.op) {
    case 'call':
      return answer(store, msg.id, msg.deadline, () => {
        now = msg.now;
        const methods = store as unknown as Record<CallMethod, (...args: unknown[]) => Promise<unknown>>;
        return methods[msg.method](...msg.args);
      });
    case 'next':
      return answer(store, msg.id, msg.deadline, () => nextBatch(store, msg.stream, msg.open));
    case 'end': {
      const it = streams.get(msg.stream);
      streams.delete(msg.stream);
      // A generator over SqliteStore's paging holds nothing to release; return() only ends it.
      await it?.return?.().catch(() => undefined);
      return;
    }
    case 'close':
      streams.clear();
      try {
        await store.close();
      } finally {
        // With the port closed and the connection gone, the thread ends by itself.
        port.close();
      }
      return;
  }
}

/** Runs one request unless its caller has already given up, and posts the answer. */
async function answer(
  store: SqliteStore,
  id: number,
  deadline: number,
  run: () => Promise<unknown>,
): Promise<void> {
  const left = deadline - Date.now();
  if (left <= 0) {
    post({
      op: 'error',
      id,
      error: { type: 'StoreUnavailableError', message: 'the call timed out before it started' },
    });
    return;
  }
  try {
    store.setBusyTimeout(lockWaitMs(left));
    post({ op: 'result', id, value: await run() });
  } catch (err) {
    post({ op: 'error', id, error: toWire(err) });
  }
}

async function nextBatch(
  store: SqliteStore,
  stream: number,
  open: { method: StreamMethod; args: unknown[] } | undefined,
): Promise<StreamStep<unknown>> {
  let it = streams.get(stream);
  if (!it && open) {
    const scans = store as unknown as Record<StreamMethod, (...args: unknown[]) => AsyncIterable<unknown[]>>;
    it = scans[open.method](...open.args)[Symbol.asyncIterator]();
    streams.set(stream, it);
  }
  if (!it) throw new Error('the stream was lost: the store worker restarted while it was read');
  try {
    const step = await it.next();
    if (step.done) {
      streams.delete(stream);
      return { done: true };
    }
    return { done: false, value: step.value };
  } catch (err) {
    streams.delete(stream);
    throw err;
  }
}
