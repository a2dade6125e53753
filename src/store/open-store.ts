import { dirname, join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { PostgresStore } from './postgres-store.js';
import { DEFAULT_SQLITE_PATH } from './sqlite-store.js';
import type { Store } from './store.js';
import { WorkerSqliteStore } from './worker-sqlite-store.js';
import { openYieldingSqliteStore } from './yielding-sqlite-store.js';

export interface OpenStoreOptions {
  clock?: Clock;
  /** SQLite only: open without write access. */
  readOnly?: boolean;
  /** PostgreSQL only: schema for day2's tables; also settable as `?schema=` in the URL. */
  schema?: string;
  /** PostgreSQL only: pool size. */
  maxConnections?: number;
  /** SQLite only: how long a call may take, waiting for another process's lock included (`store.timeout`). */
  timeoutMs?: number;
  /**
   * SQLite only: `caller` keeps the connection on the caller's thread, for a process with one
   * client (stdio), which then saves a worker thread's memory and start-up; a lock is still waited
   * for on timers, never by blocking. Default `worker`.
   */
  thread?: 'worker' | 'caller';
}

export function isPostgresSpec(spec: string | undefined): spec is string {
  return spec !== undefined && /^postgres(ql)?:\/\//i.test(spec);
}

/**
 * Opens the store named by `spec`: a `postgres://` or `postgresql://` URL opens PostgreSQL, anything
 * else is a SQLite file path (`sqlite:` prefix optional, `:memory:` allowed); undefined or empty
 * means `./.day2/day2.db`. The caller resolves DAY2_STORE and `store.url` before calling this.
 * Throws StoreUnavailableError when the store cannot be opened.
 */
export function openStore(spec: string | undefined, opts: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresSpec(spec)) {
    const { url, schema } = splitSchemaParam(spec);
    return PostgresStore.open(url, {
      clock: opts.clock,
      schema: opts.schema ?? schema,
      maxConnections: opts.maxConnections,
    });
  }
  if (opts.thread === 'caller') {
    const path = sqlitePath(spec);
    return new Promise<Store>((resolve) =>
      resolve(
        openYieldingSqliteStore(path, {
          clock: opts.clock,
          readOnly: opts.readOnly,
          timeoutMs: opts.timeoutMs,
        }),
      ),
    );
  }
  // In a worker thread: the driver is synchronous, and a locked file must not stall this thread.
  return WorkerSqliteStore.open(sqlitePath(spec), {
    clock: opts.clock,
    readOnly: opts.readOnly,
    timeoutMs: opts.timeoutMs,
  });
}

function sqlitePath(spec: string | undefined): string {
  const path = spec?.replace(/^sqlite:/i, '').trim();
  return path ? path : DEFAULT_SQLITE_PATH;
}

/** The default checkpoint signing key: next to the SQLite file, else `./.day2/audit-signing.pem`. */
export function defaultSigningKeyPath(spec: string | undefined): string {
  const path = isPostgresSpec(spec) ? undefined : sqlitePath(spec);
  if (!path || path === ':memory:') return join('.day2', 'audit-signing.pem');
  return join(dirname(path), 'audit-signing.pem');
}

/** Takes day2's own `schema` query parameter off the URL so that the driver never sees it. */
function splitSchemaParam(spec: string): { url: string; schema?: string } {
  try {
    const u = new URL(spec);
    const schema = u.searchParams.get('schema') ?? undefined;
    if (schema === undefined) return { url: spec };
    u.searchParams.delete('schema');
    return { url: u.toString(), schema };
  } catch {
    return { url: spec };
  }
}
