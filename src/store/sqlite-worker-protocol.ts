import { ApprovalStateError, StoreUnavailableError, VersionConflictError } from './store.js';
import type { ApprovalStatus, Store } from './store.js';

/**
 * The messages between WorkerSqliteStore (main thread) and the worker thread that hosts the
 * synchronous SqliteStore. Everything in them is structured-clone safe; errors travel as WireError
 * and come back as the same classes with the same fields.
 */

/** The Store methods that are one request and one answer. */
export const CALL_METHODS = [
  'appendAudit',
  'appendAuditBatch',
  'queryAudit',
  'countAudit',
  'auditHead',
  'addCheckpoint',
  'checkpoints',
  'createApproval',
  'getApproval',
  'listApprovals',
  'decideApproval',
  'issueToken',
  'consumeToken',
  'consumeApproval',
  'releaseApproval',
  'expireApprovals',
  'getDoc',
  'putDoc',
  'listDocs',
  'deleteDoc',
] as const satisfies readonly (keyof Store)[];

export type CallMethod = (typeof CALL_METHODS)[number];

/** The Store methods that stream batches: each batch is one request and one answer. */
export type StreamMethod = 'scanAudit' | 'scanChain';

/** What the worker is started with (workerData). */
export interface WorkerInit {
  path: string;
  readOnly: boolean;
}

/**
 * `now` is the main thread's clock (tests move it by hand); `deadline` is the wall-clock time
 * (Date.now) after which the main thread has given up on the answer, so the worker must not
 * start the call, nor wait for a lock past it.
 */
export type WorkerRequest =
  | { op: 'call'; id: number; method: CallMethod; args: unknown[]; now: number; deadline: number }
  /** The next batch of a stream; the first request of a stream names its method and arguments. */
  | {
      op: 'next';
      id: number;
      stream: number;
      open?: { method: StreamMethod; args: unknown[] };
      deadline: number;
    }
  /** The consumer stopped reading a stream early. */
  | { op: 'end'; stream: number }
  | { op: 'close' };

export type WorkerReply =
  | { op: 'ready' }
  | { op: 'open_failed'; error: WireError }
  | { op: 'result'; id: number; value: unknown }
  | { op: 'error'; id: number; error: WireError };

/** One step of a stream: a batch, or the end. */
export type StreamStep<T> = { done: false; value: T[] } | { done: true };

export type WireError =
  | { type: 'StoreUnavailableError'; message: string; errcode?: number }
  | { type: 'VersionConflictError'; collection: string; id: string }
  | { type: 'ApprovalStateError'; id: string; status: ApprovalStatus | 'unknown' }
  | { type: 'RangeError' | 'TypeError' | 'Error'; message: string };

/** An error as it can cross to the main thread; a driver failure keeps its SQLite result code. */
export function toWire(err: unknown): WireError {
  if (err instanceof VersionConflictError)
    return { type: 'VersionConflictError', collection: err.collection, id: err.id };
  if (err instanceof ApprovalStateError)
    return { type: 'ApprovalStateError', id: err.id, status: err.status };
  if (err instanceof StoreUnavailableError) {
    const errcode = (err.cause as { errcode?: unknown } | undefined)?.errcode;
    return {
      type: 'StoreUnavailableError',
      message: err.message,
      ...(typeof errcode === 'number' ? { errcode } : {}),
    };
  }
  if (err instanceof RangeError) return { type: 'RangeError', message: err.message };
  if (err instanceof TypeError) return { type: 'TypeError', message: err.message };
  return { type: 'Error', message: err instanceof Error ? err.message : String(err) };
}

/** The error the worker threw, as the same class with the same fields. */
export function fromWire(w: WireError): Error {
  switch (w.type) {
    case 'VersionConflictError':
      return new VersionConflictError(w.collection, w.id);
    case 'ApprovalStateError':
      return new ApprovalStateError(w.id, w.status);
    case 'StoreUnavailableError':
      return new StoreUnavailableError(w.message);
    case 'RangeError':
      return new RangeError(w.message);
    case 'TypeError':
      return new TypeError(w.message);
    default:
      return new Error(w.message);
  }
}

/** SQLITE_BUSY and SQLITE_LOCKED: another connection holds a lock the call needed. */
export function isLockError(w: WireError): boolean {
  if (w.type !== 'StoreUnavailableError' || w.errcode === undefined) return false;
  const primary = w.errcode & 0xff;
  return primary === 5 || primary === 6;
}
