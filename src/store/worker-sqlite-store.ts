import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { fromWire, isLockError } from './sqlite-worker-protocol.js';
import type {
  CallMethod,
  StreamMethod,
  StreamStep,
  WireError,
  WorkerInit,
  WorkerReply,
  WorkerRequest,
} from './sqlite-worker-protocol.js';
import { StoreUnavailableError } from './store.js';
import type { AuditChainLink, AuditRecord, Store, StoredDoc } from './store.js';

/** How long a store call may take, waiting for another process's lock included (`store.timeout`). */
export const DEFAULT_STORE_TIMEOUT_MS = 3000;

/** A start that failed is not retried sooner than this: a broken store must not spawn a thread per call. */
const RESTART_BACKOFF_MS = 1000;

export interface WorkerSqliteStoreOptions {
  clock?: Clock;
  /** Open without write access; writes then fail. */
  readOnly?: boolean;
  /**
   * How long one call may take before it fails with StoreUnavailableError; the worker stops
   * waiting for another process's lock just before. Default DEFAULT_STORE_TIMEOUT_MS.
   */
  timeoutMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

type Method<M extends keyof Store> =
  NonNullable<Store[M]> extends (...args: infer A) => infer R ? { args: A; result: R } : never;
type Args<M extends keyof Store> = Method<M>['args'];

/**
 * The embedded SQLite store, hosted in a worker thread. node:sqlite is synchronous: on the main
 * thread a lock held by another process (a backup, a sqlite3 shell, another day2) froze every
 * session, /healthz included, for the whole busy timeout. Here the worker owns the connection and
 * may block; this side forwards each call as a message and gives up after `timeoutMs`, so a locked
 * store fails calls closed (a governed write is refused) while everything that does not need the
 * store keeps answering. One store is one worker, so `:memory:` works; a worker that dies is
 * started again on the next call (an in-memory store is then gone and reports so). The worker never
 * keeps the process alive: only calls in flight do.
 */
export class WorkerSqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly readOnly: boolean;
  private readonly pending = new Map<number, Pending>();
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private lastStartFailure: { at: number; error: Error } | undefined;
  /** Set when an in-memory store's worker died: its data went with it. */
  private lost: StoreUnavailableError | undefined;
  /** A counter in a closure, so that an object built on this one (Object.create) shares it. */
  private readonly newId = counter();
  private closed = false;

  private constructor(
    readonly path: string,
    opts: WorkerSqliteStoreOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.readOnly = opts.readOnly ?? false;
  }

  /**
   * Starts the worker and opens (creating if needed) the store at `path` in it. Rejects with
   * StoreUnavailableError, as SqliteStore.open throws, when the store cannot be opened.
   */
  static async open(path: string, opts: WorkerSqliteStoreOptions = {}): Promise<WorkerSqliteStore> {
    const store = new WorkerSqliteStore(path, opts);
    await store.start();
    return store;
  }

  // Each method forwards its arguments, as they are, to the same method of SqliteStore.

  appendAudit(...args: Args<'appendAudit'>) {
    return this.call('appendAudit', args);
  }

  appendAuditBatch(...args: Args<'appendAuditBatch'>) {
    return this.call('appendAuditBatch', args);
  }

  queryAudit(...args: Args<'queryAudit'>) {
    return this.call('queryAudit', args);
  }

  countAudit(...args: Args<'countAudit'>) {
    return this.call('countAudit', args);
  }

  scanAudit(...args: Args<'scanAudit'>): AsyncIterable<AuditRecord[]> {
    return this.stream('scanAudit', args);
  }

  scanChain(...args: Args<'scanChain'>): AsyncIterable<AuditChainLink[]> {
    return this.stream('scanChain', args);
  }

  auditHead() {
    return this.call('auditHead', []);
  }

  addCheckpoint(...args: Args<'addCheckpoint'>) {
    return this.call('addCheckpoint', args);
  }

  checkpoints() {
    return this.call('checkpoints', []);
  }

  createApproval(...args: Args<'createApproval'>) {
    return this.call('createApproval', args);
  }

  getApproval(...args: Args<'getApproval'>) {
    return this.call('getApproval', args);
  }

  listApprovals(...args: Args<'listApprovals'>) {
    return this.call('listApprovals', args);
  }

  decideApproval(...args: Args<'decideApproval'>) {
    return this.call('decideApproval', args);
  }

  issueToken(...args: Args<'issueToken'>) {
    return this.call('issueToken', args);
  }

  consumeToken(...args: Args<'consumeToken'>) {
    return this.call('consumeToken', args);
  }

  consumeApproval(...args: Args<'consumeApproval'>) {
    return this.call('consumeApproval', args);
  }

  releaseApproval(...args: Args<'releaseApproval'>) {
    return this.call('releaseApproval', args);
  }

  expireApprovals(...args: Args<'expireApprovals'>) {
    return this.call('expireApprovals', args);
  }

  // The documents' value type is the caller's to name; the store keeps whatever JSON it was given.
  getDoc<T>(collection: string, id: string) {
    return this.call('getDoc', [collection, id]) as Promise<StoredDoc<T> | undefined>;
  }

  putDoc<T>(collection: string, id: string, value: T, expectedVersion?: number) {
    return this.call('putDoc', [collection, id, value, expectedVersion]) as Promise<StoredDoc<T>>;
  }

  listDocs<T>(collection: string, limit: number, afterId?: string) {
    return this.call('listDocs', [collection, limit, afterId]) as Promise<StoredDoc<T>[]>;
  }

  deleteDoc(...args: Args<'deleteDoc'>) {
    return this.call('deleteDoc', args);
  }

  /** Lets the calls already sent finish, closes the connection and ends the worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker ?? (await this.starting?.catch(() => undefined));
    if (!worker) return;
    // Until it has closed the database, the worker keeps the process alive.
    worker.ref();
    const exited = once(worker, 'exit');
    worker.postMessage({ op: 'close' } satisfies WorkerRequest);
    const stuck = setTimeout(() => void worker.terminate(), this.timeoutMs + 1000);
    await exited;
    clearTimeout(stuck);
  }

  private call<M extends CallMethod>(method: M, args: Method<M>['args']): Method<M>['result'] {
    return this.send({ op: 'call', method, args, now: this.clock.now().getTime() });
  }

  /** A stream whose next batch is asked for while the caller works on the current one. */
  private async *stream<T>(method: StreamMethod, args: unknown[]): AsyncGenerator<T[]> {
    const stream = this.newId();
    let finished = false;
    try {
      let next = this.send({ op: 'next', stream, open: { method, args } });
      for (;;) {
        const step = (await next) as StreamStep<T>;
        if (step.done) {
          finished = true;
          return;
        }
        next = this.send({ op: 'next', stream });
        // Awaited on the next turn; until then a failure must not count as unhandled.
        next.catch(() => undefined);
        yield step.value;
      }
    } finally {
      if (!finished) this.worker?.postMessage({ op: 'end', stream } satisfies WorkerRequest);
    }
  }

  private send(
    msg:
      | Omit<Extract<WorkerRequest, { op: 'call' }>, 'id' | 'deadline'>
      | Omit<Extract<WorkerRequest, { op: 'next' }>, 'id' | 'deadline'>,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(`SQLite store ${this.path} is closed`));
    if (this.worker) return this.post(this.worker, msg);
    return this.start().then((worker) => this.post(worker, msg));
  }

  private post(worker: Worker, msg: Parameters<WorkerSqliteStore['send']>[0]): Promise<unknown> {
    const id = this.newId();
    return new Promise((resolve, reject) => {
      // This timer, not the worker, keeps the process alive while the call is in flight.
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new StoreUnavailableError(
            `SQLite store ${this.path} did not answer within ${this.timeoutMs} ms (store.timeout): another process may hold its lock, or its disk may be stalled`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        worker.postMessage({ ...msg, id, deadline: Date.now() + this.timeoutMs });
      } catch (err) {
        // A value that cannot be cloned (a function, a class the store cannot keep): a bug.
        this.settle(id)?.reject(
          new TypeError(
            `SQLite store: ${msg.op === 'call' ? msg.method : msg.open?.method} was given a value it cannot store: ${(err as Error).message}`,
          ),
        );
      }
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined; // its caller already gave up
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  /** Starts the worker (once at a time) and resolves when its store is open. */
  private start(): Promise<Worker> {
    if (this.lost) return Promise.reject(this.lost);
    const failed = this.lastStartFailure;
    if (failed && Date.now() - failed.at < RESTART_BACKOFF_MS) return Promise.reject(failed.error);
    this.starting ??= this.spawn().then(
      (worker) => {
        this.starting = undefined;
        this.lastStartFailure = undefined;
        this.worker = worker;
        return worker;
      },
      (err: Error) => {
        this.starting = undefined;
        this.lastStartFailure = { at: Date.now(), error: err };
        throw err;
      },
    );
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    const source = import.meta.url.endsWith('.ts');
    const init: WorkerInit = { path: this.path, readOnly: this.readOnly };
    const worker = new Worker(new URL(`./sqlite-worker.${source ? 'ts' : 'js'}`, import.meta.url), {
      workerData: init,
      // Run from source (tests, tsx), the worker needs the same TypeScript loader.
      ...(source ? { execArgv: ['--import', import.meta.resolve('tsx')] } : {}),
      // stdout belongs to the stdio transport. The store prints nothing; anything else the thread
      // might print there is held back, unread, because a reader would keep the process alive.
      // Its stderr (warnings) goes to the process's stderr as usual.
      stdout: true,
    });
    return new Promise<Worker>((resolve, reject) => {
      const failed = (err: Error) => {
        worker.off('message', opened);
        reject(err);
      };
      const opened = (reply: WorkerReply) => {
        if (reply.op === 'open_failed') return failed(fromWire(reply.error));
        if (reply.op !== 'ready') return;
        worker.off('message', opened);
        worker.off('error', crashed);
        worker.on('message', (r: WorkerReply) => this.onReply(r));
        worker.on('error', (err: Error) => this.onExit(worker, `failed: ${err.message}`));
        worker.once('exit', (code) => this.onExit(worker, `exited with code ${code}`));
        // Idle, the worker must not keep the process running; calls in flight keep it alive.
        worker.unref();
        resolve(worker);
      };
      const crashed = (err: Error) =>
        failed(new StoreUnavailableError(`SQLite store ${this.path} could not start: ${err.message}`));
      worker.on('message', opened);
      worker.once('error', crashed);
      worker.once('exit', (code) =>
        failed(new StoreUnavailableError(`SQLite store ${this.path} could not start (exit code ${code})`)),
      );
    });
  }

  private onReply(reply: WorkerReply): void {
    if (reply.op !== 'result' && reply.op !== 'error') return;
    const p = this.settle(reply.id);
    if (!p) return;
    if (reply.op === 'result') p.resolve(reply.value);
    else p.reject(this.errorOf(reply.error));
  }

  private errorOf(w: WireError): Error {
    if (!isLockError(w)) return fromWire(w);
    return new StoreUnavailableError(
      `SQLite store ${this.path} is locked by another process: gave up within ${this.timeoutMs} ms (store.timeout) and changed nothing`,
    );
  }

  /** The worker stopped: what was in flight fails, and the next call starts a new one. */
  private onExit(worker: Worker, how: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const error = new StoreUnavailableError(
      this.closed
        ? `SQLite store ${this.path} is closed`
        : `SQLite store ${this.path} stopped (its worker thread ${how}); a call in flight may or may not have completed`,
    );
    if (!this.closed && this.path === ':memory:')
      this.lost = new StoreUnavailableError(`the in-memory SQLite store is gone: its worker thread ${how}`);
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(error);
  }
}

function counter(): () => number {
  let n = 0;
  return () => ++n;
}
