import { environmentConfig, ownEntry } from '../../config/lookup.js';
import { spawn } from 'node:child_process';
import pg from 'pg';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../core/log.js';
import { PostgresError, translatePgError } from './errors.js';

/** A configured database: a key of `environments.<env>.databases`. */
export interface DbRef {
  env: string;
  database: string;
}

/** Where a database lives, without credentials; safe for plans, results and logs. */
export interface DbEndpoint {
  host: string;
  port: number;
  dbname: string;
  user: string;
}

export interface PostgresProviderOptions {
  /**
   * Where `url_env` variables are looked up, and the PATH, HOME, locale, TZ and PGPASSFILE that
   * pg_dump and pg_restore run with: the CLI hands in its environment.
   */
  env: Record<string, string | undefined>;
  connectTimeoutMs?: number;
  /** Clients per pool (one pool per configured database). */
  poolMax?: number;
  pgDump?: string;
  pgRestore?: string;
  log?: Logger;
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * PostgreSQL behind day2's configuration: resolves `{env, database}` to a pooled `pg` connection,
 * runs the real `pg_dump`/`pg_restore`, and turns every failure into a typed PostgresError whose
 * message names `env/database`, never the connection string.
 */
export class PostgresProvider {
  private readonly pools = new Map<string, pg.Pool>();
  private readonly env: Record<string, string | undefined>;
  private readonly connectTimeoutMs: number;
  readonly pgDump: string;
  readonly pgRestore: string;

  constructor(
    private readonly config: Config,
    private readonly options: PostgresProviderOptions,
  ) {
    this.env = options.env;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.pgDump = options.pgDump ?? 'pg_dump';
    this.pgRestore = options.pgRestore ?? 'pg_restore';
  }

  /** True when the environment configures this database. */
  has(ref: DbRef): boolean {
    return Boolean(ownEntry(environmentConfig(this.config, ref.env)?.databases, ref.database));
  }

  /** The least-privilege role a database's configuration names for SQL from the model, if any. */
  explainRole(ref: DbRef): string | undefined {
    return ownEntry(environmentConfig(this.config, ref.env)?.databases, ref.database)?.explain_role;
  }

  /** Host, port, database name and user of a configured database. */
  endpoint(ref: DbRef, dbname?: string): DbEndpoint {
    const u = this.url(ref);
    return {
      host: u.searchParams.get('host') ?? (decodeURIComponent(u.hostname) || 'localhost'),
      port: Number(u.port || u.searchParams.get('port') || 5432),
      dbname:
        dbname ??
        (decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres'),
      user: decodeURIComponent(u.username) || 'postgres',
    };
  }

  /** Runs one parameterized query on a pooled client. */
  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    ref: DbRef,
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    return this.withClient(ref, async (c) => (await c.query<R>(sql, params)).rows);
  }

  /**
   * Lends a client for `fn`. With `dbname`, connects to another database on the same server (a
   * restore target) with a one-off client. With `discard`, the pooled client is closed afterwards
   * instead of going back to the pool (for callers that ran SQL that may leave session state).
   */
  async withClient<T>(
    ref: DbRef,
    fn: (client: pg.ClientBase) => Promise<T>,
    opts: { dbname?: string; discard?: boolean } = {},
  ): Promise<T> {
    const where = `${ref.env}/${opts.dbname ?? ref.database}`;
    if (opts.dbname !== undefined) {
      const client = new pg.Client({
        connectionString: this.connectionString(ref, opts.dbname),
        connectionTimeoutMillis: this.connectTimeoutMs,
      });
      client.on('error', (e) => this.options.log?.warn('postgres client error', { where, error: e.message }));
      try {
        await client.connect();
        return await fn(client);
      } catch (e) {
        throw translatePgError(e, where);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    let client: pg.PoolClient;
    try {
      client = await this.pool(ref).connect();
    } catch (e) {
      throw translatePgError(e, where);
    }
    let broken = false;
    try {
      return await fn(client);
    } catch (e) {
      // A failed statement inside an open transaction would poison the next borrower.
      broken = true;
      throw translatePgError(e, where);
    } finally {
      client.release(broken || opts.discard === true);
    }
  }

  /**
   * Runs `fn` inside `BEGIN READ ONLY` with a local statement_timeout, and always rolls back. The
   * read-only transaction is the backstop behind every guard: PostgreSQL itself refuses writes.
   * With `role`, the transaction runs as that role (`SET LOCAL ROLE`), which ends with it.
   */
  async readOnly<T>(
    ref: DbRef,
    fn: (client: pg.ClientBase) => Promise<T>,
    opts: { statementTimeoutMs: number; lockTimeoutMs?: number; role?: string },
  ): Promise<T> {
    return this.withClient(ref, async (c) => {
      await c.query('BEGIN TRANSACTION READ ONLY');
      try {
        if (opts.role !== undefined) await c.query(`SET LOCAL ROLE ${c.escapeIdentifier(opts.role)}`);
        await c.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(opts.statementTimeoutMs))}`);
        await c.query(
          `SET LOCAL lock_timeout = ${Math.max(1, Math.trunc(opts.lockTimeoutMs ?? opts.statementTimeoutMs))}`,
        );
        return await fn(c);
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  /**
   * Logs in to `endpoint` as `user` with `password` over a connection of its own (never pooled,
   * closed at once) and resolves to the session user: how a rotation proves a new credential
   * works before it becomes current. Rejects with the driver's error, whose `code` is the SQLSTATE
   * (28P01 for a wrong password) or the socket error; its text never reaches a model.
   */
  async testLogin(
    endpoint: Pick<DbEndpoint, 'host' | 'port' | 'dbname'>,
    user: string,
    password: string,
    opts: { timeoutMs?: number } = {},
  ): Promise<string> {
    const c = new pg.Client({
      host: endpoint.host,
      port: endpoint.port,
      database: endpoint.dbname,
      user,
      password,
      connectionTimeoutMillis: opts.timeoutMs ?? this.connectTimeoutMs,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const r = await c.query<{ u: string }>('SELECT session_user AS u');
      return r.rows[0]?.u ?? user;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** Checks that a dump archive is readable; returns the table-of-contents lines (`pg_restore --list`). */
  async listArchive(file: string, signal?: AbortSignal): Promise<string[]> {
    const r = await this.run(this.pgRestore, ['--list', file], {}, signal);
    if (r.code !== 0)
      throw new PostgresError(
        'query_failed',
        `pg_restore --list could not read the archive: ${firstLine(r.stderr)}`,
      );
    return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';'));
  }

  /** The major version of a client binary (`pg_dump --version` → 15). */
  async binaryMajor(bin: string): Promise<number> {
    const r = await this.run(bin, ['--version'], {});
    const m = /(\d+)(?:\.\d+)?/.exec(r.stdout);
    if (r.code !== 0 || !m)
      throw new PostgresError(
        'unavailable',
        `${bin} is not usable: ${firstLine(r.stderr) || 'no version output'}`,
      );
    return Number(m[1]);
  }

  /** `pg_dump -Fc` of a configured database into `file`; `onChunk` sees stderr lines (verbose). */
  async dump(ref: DbRef, file: string, signal?: AbortSignal): Promise<ProcessResult> {
    const r = await this.run(
      this.pgDump,
      ['--format=custom', '--no-password', `--file=${file}`],
      this.pgEnv(ref),
      signal,
    );
    if (r.code !== 0)
      throw new PostgresError(
        'query_failed',
        `pg_dump of ${ref.env}/${ref.database} failed: ${firstLine(r.stderr)}`,
      );
    return r;
  }

  /** `pg_restore` of an archive into database `dbname` on the same server as `ref`. */
  async restore(
    ref: DbRef,
    file: string,
    dbname: string,
    opts: { clean: boolean; jobs?: number },
    signal?: AbortSignal,
  ): Promise<ProcessResult> {
    const args = ['--no-owner', '--no-privileges', '--no-password', `--dbname=${dbname}`];
    if (opts.clean) args.push('--clean', '--if-exists');
    if (opts.jobs && opts.jobs > 1) args.push(`--jobs=${opts.jobs}`);
    args.push(file);
    return this.run(this.pgRestore, args, this.pgEnv(ref, dbname), signal);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }

  private pool(ref: DbRef): pg.Pool {
    const key = `${ref.env}\u0000${ref.database}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: this.connectionString(ref),
        connectionTimeoutMillis: this.connectTimeoutMs,
        max: this.options.poolMax ?? 4,
        idleTimeoutMillis: 30_000,
        application_name: 'day2',
      });
      // An idle client losing its server must not crash the process; the next borrow reconnects.
      pool.on('error', (e) =>
        this.options.log?.warn('postgres pool error', {
          env: ref.env,
          database: ref.database,
          error: e.message,
        }),
      );
      this.pools.set(key, pool);
    }
    return pool;
  }

  private url(ref: DbRef): URL {
    const db = ownEntry(environmentConfig(this.config, ref.env)?.databases, ref.database);
    if (!db)
      throw new PostgresError(
        'unknown_database',
        `environment "${ref.env}" has no database "${ref.database}" configured`,
      );
    const raw = db.url_env ? this.env[db.url_env] : db.url;
    if (!raw) {
      const from = db.url_env
        ? `environment variable ${db.url_env} is not set`
        : 'no url or url_env is configured';
      throw new PostgresError(
        'unavailable',
        `database "${ref.database}" in "${ref.env}" has no connection string: ${from}`,
      );
    }
    try {
      return new URL(raw);
    } catch {
      throw new PostgresError(
        'unavailable',
        `the connection string for "${ref.database}" in "${ref.env}" is not a postgres:// URL`,
      );
    }
  }

  private connectionString(ref: DbRef, dbname?: string): string {
    const u = this.url(ref);
    if (dbname !== undefined) u.pathname = '/' + encodeURIComponent(dbname);
    return u.toString();
  }

  /** libpq variables for the client binaries, so that the password never appears in argv. */
  private pgEnv(ref: DbRef, dbname?: string): Record<string, string> {
    const u = this.url(ref);
    const ep = this.endpoint(ref, dbname);
    const out: Record<string, string> = {
      PGHOST: ep.host,
      PGPORT: String(ep.port),
      PGUSER: ep.user,
      PGDATABASE: ep.dbname,
      PGCONNECT_TIMEOUT: String(Math.ceil(this.connectTimeoutMs / 1000)),
      PGAPPNAME: 'day2',
    };
    if (u.password) out.PGPASSWORD = decodeURIComponent(u.password);
    const sslmode = u.searchParams.get('sslmode');
    if (sslmode) out.PGSSLMODE = sslmode;
    return out;
  }

  private run(
    bin: string,
    args: string[],
    pgEnv: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<ProcessResult> {
    const env: Record<string, string> = { ...pgEnv };
    for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'PGPASSFILE']) {
      const v = this.env[k];
      if (v !== undefined) env[k] = v;
    }
    return new Promise((resolve, reject) => {
      const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-20_000)));
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT')
          reject(new PostgresError('unavailable', `${bin} is not installed or not on PATH`));
        else if (e.name === 'AbortError')
          reject(new PostgresError('query_canceled', `${bin} was stopped because the call was cancelled`));
        else reject(new PostgresError('query_failed', `${bin} could not start: ${e.message}`));
      });
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }
}

function firstLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.find((l) => /error/i.test(l)) ?? lines[0] ?? '')
    .replace(/postgres(ql)?:\/\/\S*/gi, '[connection string]')
    .slice(0, 300);
}
