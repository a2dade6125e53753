import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import {
  applyDecision,
  consumeFailure,
  tokenHash,
  unissuedTokenHash,
  wrongPrincipal,
} from './approval-state.js';
import { isoTime, sealAudit } from './audit-chain.js';
import { ApprovalStateError, StoreUnavailableError, VersionConflictError } from './store.js';
import type {
  ApprovalDecision,
  ApprovalRequest,
  ApprovalStatus,
  AuditChainLink,
  AuditCheckpoint,
  AuditInput,
  AuditQuery,
  AuditRecord,
  ConsumeResult,
  Store,
  StoredDoc,
} from './store.js';

/** Where the embedded store lives unless DAY2_STORE or `store.url` says otherwise. */
export const DEFAULT_SQLITE_PATH = './.day2/day2.db';

const SCHEMA_VERSION = 3;

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY,
  ts TEXT NOT NULL,
  record TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  ts TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  action_digest TEXT NOT NULL,
  requester TEXT NOT NULL,
  token TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  approved_at TEXT,
  token_expires_at TEXT,
  consumed_at TEXT,
  decisions TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_digest ON approvals (action_digest, requester, status);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, created_at);
CREATE TABLE IF NOT EXISTS docs (
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (collection, id)
);
`;

export interface SqliteStoreOptions {
  clock?: Clock;
  /** Open without write access (e.g. `day2 audit verify` on a copy); writes then fail. */
  readOnly?: boolean;
  /** How long to wait for another process's write lock before failing; default 5 s. */
  busyTimeoutMs?: number;
}

type Row = Record<string, SQLOutputValue>;

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL. Every write that reads
 * before it writes runs in `BEGIN IMMEDIATE`, which takes the file's write lock up front, so
 * several processes sharing the file never fork the audit chain or consume a token twice.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;
  private readonly clock: Clock;
  private readonly stmts: ReturnType<SqliteStore['prepareAll']>;
  private closed = false;

  private constructor(
    readonly path: string,
    opts: SqliteStoreOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    const timeout = opts.busyTimeoutMs ?? 5000;
    if (path !== ':memory:' && !opts.readOnly) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(path, { timeout, readOnly: opts.readOnly ?? false });
    try {
      if (!opts.readOnly) this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec(`PRAGMA synchronous = FULL; PRAGMA busy_timeout = ${timeout}`);
      this.migrate(opts.readOnly ?? false);
      this.stmts = this.prepareAll();
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  /** Opens (creating the file, its folder and the tables if needed) the SQLite store at `path`. */
  static open(path: string = DEFAULT_SQLITE_PATH, opts: SqliteStoreOptions = {}): SqliteStore {
    try {
      return new SqliteStore(path, opts);
    } catch (err) {
      throw unavailable(path, err);
    }
  }

  private migrate(readOnly: boolean): void {
    const version = Number(this.db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
    if (version >= SCHEMA_VERSION) return;
    if (readOnly)
      throw new StoreUnavailableError(
        version === 0
          ? `SQLite store ${this.path} has no day2 tables and was opened read-only`
          : `SQLite store ${this.path} has schema version ${version} and was opened read-only; open it once with write access to migrate it to version ${SCHEMA_VERSION}`,
      );
    this.transaction(() => {
      const current = Number(this.db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
      if (current >= SCHEMA_VERSION) return;
      if (current < 1) this.db.exec(SCHEMA_V1);
      if (current < 2) this.migrateTo2();
      // Version 3: readers of one kind of event (the change ledger's executes and outcomes,
      // search_audit) walk this index newest first instead of parsing every record in the window.
      this.db.exec(`CREATE INDEX IF NOT EXISTS audit_event ON audit (json_extract(record, '$.event'), seq)`);
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    });
  }

  /**
   * Version 2: the approvals table keeps only the SHA-256 of a token. Tokens stored in plain text
   * before are hashed in place, and count as issued (they may have been shown already); each still
   * works, once, for its requester.
   */
  private migrateTo2(): void {
    this.db.exec('ALTER TABLE approvals ADD COLUMN token_issued_at TEXT');
    const hashTo = this.db.prepare('UPDATE approvals SET token = ?, token_issued_at = ? WHERE id = ?');
    const at = this.now();
    for (const row of this.db.prepare('SELECT id, token FROM approvals').all())
      hashTo.run(tokenHash(String(row.token)), at, String(row.id));
  }

  private prepareAll() {
    const p = (sql: string): StatementSync => this.db.prepare(sql);
    return {
      head: p('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1'),
      insertAudit: p('INSERT INTO audit (seq, ts, record, prev_hash, hash) VALUES (?, ?, ?, ?, ?)'),
      scan: p('SELECT seq, ts, record, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?'),
      scanChain: arrays(
        p('SELECT seq, hash, prev_hash, record FROM audit WHERE seq > ? ORDER BY seq LIMIT ?'),
      ),
      addCheckpoint: p(
        'INSERT INTO audit_checkpoints (seq, hash, ts, key_id, signature) VALUES (?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING',
      ),
      checkpoints: p('SELECT seq, hash, ts, key_id, signature FROM audit_checkpoints ORDER BY seq'),
      findPending: p(
        `SELECT * FROM approvals WHERE action_digest = ? AND requester = ? AND status = 'pending' AND expires_at > ?
         ORDER BY created_at DESC LIMIT 1`,
      ),
      insertApproval: p(
        `INSERT INTO approvals (id, status, action_digest, requester, token, created_at, expires_at, decisions, body)
         VALUES (?, 'pending', ?, ?, ?, ?, ?, '[]', ?)`,
      ),
      issueToken: p(
        `UPDATE approvals SET token = ?, token_issued_at = ?
         WHERE id = ? AND status = 'approved' AND token_issued_at IS NULL AND token_expires_at > ? RETURNING *`,
      ),
      getApproval: p('SELECT * FROM approvals WHERE id = ?'),
      byToken: p('SELECT * FROM approvals WHERE token = ?'),
      updateDecision: p(
        'UPDATE approvals SET status = ?, decisions = ?, approved_at = ?, token_expires_at = ? WHERE id = ?',
      ),
      consume: p(
        `UPDATE approvals SET status = 'consumed', consumed_at = ?
         WHERE token = ? AND status = 'approved' AND action_digest = ? AND token_expires_at > ? RETURNING *`,
      ),
      consumeById: p(
        `UPDATE approvals SET status = 'consumed', consumed_at = ?
         WHERE id = ? AND status = 'approved' AND action_digest = ? AND token_expires_at > ? RETURNING *`,
      ),
      release: p(
        `UPDATE approvals SET status = 'approved', consumed_at = NULL
         WHERE id = ? AND status = 'consumed' AND consumed_at = ?`,
      ),
      expire: p(
        `UPDATE approvals SET status = 'expired'
         WHERE (status = 'pending' AND expires_at <= ?) OR (status = 'approved' AND token_expires_at <= ?)`,
      ),
      getDoc: p('SELECT * FROM docs WHERE collection = ? AND id = ?'),
      upsertDoc: p(
        `INSERT INTO docs (collection, id, version, updated_at, value) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (collection, id) DO UPDATE SET version = version + 1, updated_at = excluded.updated_at, value = excluded.value
         RETURNING version`,
      ),
      insertDoc: p(
        `INSERT INTO docs (collection, id, version, updated_at, value) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (collection, id) DO NOTHING RETURNING version`,
      ),
      updateDoc: p(
        `UPDATE docs SET version = version + 1, updated_at = ?, value = ? WHERE collection = ? AND id = ? AND version = ?
         RETURNING version`,
      ),
      listDocs: p('SELECT * FROM docs WHERE collection = ? AND id > ? ORDER BY id LIMIT ?'),
      deleteDoc: p('DELETE FROM docs WHERE collection = ? AND id = ?'),
    };
  }

  /** Runs `fn` holding the write lock (`BEGIN IMMEDIATE`); commits, or rolls back on error. */
  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      if (this.db.isTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // The original error is the one worth reporting.
        }
      }
      throw err;
    }
  }

  /** Runs a synchronous driver call as a promise, translating driver failures. */
  private run<T>(fn: () => T): Promise<T> {
    try {
      if (this.closed) throw new StoreUnavailableError(`SQLite store ${this.path} is closed`);
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(unavailable(this.path, err));
    }
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  appendAudit(input: AuditInput, ts?: string): Promise<AuditRecord> {
    return this.appendAuditBatch([{ input, ts }]).then((records) => records[0]!);
  }

  appendAuditBatch(
    items: ReadonlyArray<{ input: AuditInput; ts?: string }>,
    opts: { durable?: boolean } = {},
  ): Promise<AuditRecord[]> {
    return this.run(() => {
      if (items.length === 0) return [];
      const now = this.now();
      const pending = items.map((i) => ({ input: i.input, ts: i.ts === undefined ? now : isoTime(i.ts) }));
      // node:sqlite is synchronous, so an fsync stalls every session. Batches of read audits
      // commit without one (WAL, synchronous=NORMAL: safe from a process crash);
      // the next durable commit syncs the WAL, and with it every frame written before.
      const relaxed = opts.durable === false;
      if (relaxed) this.db.exec('PRAGMA synchronous = NORMAL');
      try {
        return this.transaction(() => {
          const head = this.stmts.head.get();
          const records = sealAudit(head && { seq: Number(head.seq), hash: String(head.hash) }, pending);
          for (const r of records) this.stmts.insertAudit.run(r.seq, r.ts, r.record, r.prev_hash, r.hash);
          return records;
        });
      } finally {
        if (relaxed) this.db.exec('PRAGMA synchronous = FULL');
      }
    });
  }

  queryAudit(q: AuditQuery): Promise<AuditRecord[]> {
    return this.run(() => {
      const { where, params } = auditWhere(q);
      params.push(Math.max(0, Math.floor(q.limit)));
      return this.db
        .prepare(
          `SELECT seq, ts, record, prev_hash, hash FROM audit ${where} ORDER BY seq ${q.desc ? 'DESC' : 'ASC'} LIMIT ?`,
        )
        .all(...params)
        .map(toAuditRecord);
    });
  }

  countAudit(q: Omit<AuditQuery, 'limit' | 'desc'>): Promise<number> {
    return this.run(() => {
      const { where, params } = auditWhere(q);
      const row = this.db.prepare(`SELECT count(*) AS n FROM audit ${where}`).get(...params);
      return Number(row?.n ?? 0);
    });
  }

  async *scanAudit(batchSize: number, afterSeq = 0): AsyncIterable<AuditRecord[]> {
    let after = afterSeq;
    for (;;) {
      const batch = await this.run(() => this.stmts.scan.all(after, batchSize).map(toAuditRecord));
      if (batch.length === 0) return;
      yield batch;
      after = batch[batch.length - 1]!.seq;
      if (batch.length < batchSize) return;
    }
  }

  async *scanChain(batchSize: number, afterSeq = 0): AsyncIterable<AuditChainLink[]> {
    let after = afterSeq;
    for (;;) {
      // Rows come back as [INTEGER, TEXT, TEXT, TEXT] arrays, which is exactly AuditChainLink.
      const batch = await this.run(
        () => this.stmts.scanChain.all(after, batchSize) as unknown as AuditChainLink[],
      );
      if (batch.length === 0) return;
      yield batch;
      after = batch[batch.length - 1]![0];
      if (batch.length < batchSize) return;
    }
  }

  auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    return this.run(() => {
      const row = this.stmts.head.get();
      return row && { seq: Number(row.seq), hash: String(row.hash) };
    });
  }

  addCheckpoint(cp: AuditCheckpoint): Promise<void> {
    return this.run(() => {
      this.stmts.addCheckpoint.run(cp.seq, cp.hash, cp.ts, cp.key_id, cp.signature);
    });
  }

  checkpoints(): Promise<AuditCheckpoint[]> {
    return this.run(() =>
      this.stmts.checkpoints.all().map((r) => ({
        seq: Number(r.seq),
        hash: String(r.hash),
        ts: String(r.ts),
        key_id: String(r.key_id),
        signature: String(r.signature),
      })),
    );
  }

  createApproval(
    req: Omit<ApprovalRequest, 'status' | 'decisions' | 'token_issued_at'>,
  ): Promise<{ request: ApprovalRequest; created: boolean }> {
    return this.run(() => {
      const createdAt = isoTime(req.created_at);
      const expiresAt = isoTime(req.expires_at);
      return this.transaction(() => {
        const existing = this.stmts.findPending.get(req.action_digest, req.requester, createdAt);
        if (existing) return { request: toApproval(existing), created: false };
        this.stmts.insertApproval.run(
          req.id,
          req.action_digest,
          req.requester,
          unissuedTokenHash(),
          createdAt,
          expiresAt,
          approvalBody(req),
        );
        return { request: toApproval(this.stmts.getApproval.get(req.id)!), created: true };
      });
    });
  }

  getApproval(id: string): Promise<ApprovalRequest | undefined> {
    return this.run(() => {
      const row = this.stmts.getApproval.get(id);
      return row && toApproval(row);
    });
  }

  listApprovals(filter: { status?: ApprovalStatus; limit: number }): Promise<ApprovalRequest[]> {
    return this.run(() => {
      const limit = Math.max(0, Math.floor(filter.limit));
      const rows = filter.status
        ? this.db
            .prepare('SELECT * FROM approvals WHERE status = ? ORDER BY created_at DESC, id LIMIT ?')
            .all(filter.status, limit)
        : this.db.prepare('SELECT * FROM approvals ORDER BY created_at DESC, id LIMIT ?').all(limit);
      return rows.map(toApproval);
    });
  }

  decideApproval(
    id: string,
    decision: ApprovalDecision,
    now: string,
    ttlMs: number,
  ): Promise<ApprovalRequest> {
    return this.run(() => {
      const at = isoTime(now);
      const outcome = this.transaction(() => {
        const row = this.stmts.getApproval.get(id);
        if (!row) throw new ApprovalStateError(id, 'unknown');
        const result = applyDecision(toApproval(row), { ...decision, at: isoTime(decision.at) }, at, ttlMs);
        if (result.kind !== 'unchanged') {
          const r = result.request;
          this.stmts.updateDecision.run(
            r.status,
            JSON.stringify(r.decisions),
            r.approved_at ?? null,
            r.token_expires_at ?? null,
            id,
          );
        }
        return result;
      });
      if (outcome.kind === 'expired') throw new ApprovalStateError(id, 'expired');
      return outcome.request;
    });
  }

  issueToken(id: string, token: string, now: string): Promise<ApprovalRequest | undefined> {
    return this.run(() => {
      const at = isoTime(now);
      const row = this.stmts.issueToken.get(tokenHash(token), at, id, at);
      return row && toApproval(row);
    });
  }

  consumeToken(token: string, actionDigest: string, principal: string, now: string): Promise<ConsumeResult> {
    return this.consumeOnce(
      this.stmts.byToken,
      this.stmts.consume,
      tokenHash(token),
      actionDigest,
      principal,
      now,
    );
  }

  consumeApproval(id: string, actionDigest: string, principal: string, now: string): Promise<ConsumeResult> {
    return this.consumeOnce(this.stmts.getApproval, this.stmts.consumeById, id, actionDigest, principal, now);
  }

  /** Both redemptions: the row `key` names (a token's hash, or an id), consumed in one transaction. */
  private consumeOnce(
    find: StatementSync,
    consume: StatementSync,
    key: string,
    actionDigest: string,
    principal: string,
    now: string,
  ): Promise<ConsumeResult> {
    return this.run((): ConsumeResult => {
      const at = isoTime(now);
      return this.transaction(() => {
        const current = find.get(key);
        const request = current && toApproval(current);
        const refused = request && wrongPrincipal(request, principal);
        if (refused) return refused;
        const row = consume.get(at, key, actionDigest, at);
        if (row) return { ok: true, request: toApproval(row) };
        return consumeFailure(request, actionDigest, at);
      });
    });
  }

  releaseApproval(id: string, consumedAt: string): Promise<boolean> {
    return this.run(() => Number(this.stmts.release.run(id, isoTime(consumedAt)).changes) > 0);
  }

  expireApprovals(now: string): Promise<number> {
    return this.run(() => {
      const at = isoTime(now);
      return Number(this.stmts.expire.run(at, at).changes);
    });
  }

  getDoc<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    return this.run(() => {
      const row = this.stmts.getDoc.get(collection, id);
      return row && toDoc<T>(row);
    });
  }

  putDoc<T>(collection: string, id: string, value: T, expectedVersion?: number): Promise<StoredDoc<T>> {
    return this.run(() => {
      const now = this.now();
      const text = JSON.stringify(value);
      let row: Row | undefined;
      if (expectedVersion === undefined) row = this.stmts.upsertDoc.get(collection, id, now, text);
      else if (expectedVersion === 0) row = this.stmts.insertDoc.get(collection, id, now, text);
      else row = this.stmts.updateDoc.get(now, text, collection, id, expectedVersion);
      if (!row) throw new VersionConflictError(collection, id);
      return { collection, id, version: Number(row.version), updated_at: now, value: JSON.parse(text) as T };
    });
  }

  listDocs<T>(collection: string, limit: number, afterId = ''): Promise<StoredDoc<T>[]> {
    return this.run(() =>
      this.stmts.listDocs.all(collection, afterId, Math.max(0, Math.floor(limit))).map((r) => toDoc<T>(r)),
    );
  }

  deleteDoc(collection: string, id: string): Promise<boolean> {
    return this.run(() => Number(this.stmts.deleteDoc.run(collection, id).changes) > 0);
  }

  /**
   * How long the next statements wait for another process's lock. The worker that hosts this store
   * sets it before each call to the time left before the caller gives up, so that a call never
   * commits after its caller was told it failed.
   */
  setBusyTimeout(ms: number): void {
    this.db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(ms))}`);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }
}

function arrays(stmt: StatementSync): StatementSync {
  stmt.setReturnArrays(true);
  return stmt;
}

function toAuditRecord(r: Row): AuditRecord {
  return {
    seq: Number(r.seq),
    ts: String(r.ts),
    record: String(r.record),
    prev_hash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

/** The immutable part of a request, kept as one JSON column. */
function approvalBody(req: Omit<ApprovalRequest, 'status' | 'decisions' | 'token_issued_at'>): string {
  return JSON.stringify({
    tool: req.tool,
    env: req.env,
    service: req.service,
    summary: req.summary,
    args: req.args,
    plan: req.plan,
    policy: req.policy,
  });
}

function toApproval(r: Row): ApprovalRequest {
  const body = JSON.parse(String(r.body)) as Pick<
    ApprovalRequest,
    'tool' | 'env' | 'service' | 'summary' | 'args' | 'plan' | 'policy'
  >;
  const out: ApprovalRequest = {
    id: String(r.id),
    status: String(r.status) as ApprovalStatus,
    tool: body.tool,
    env: body.env,
    action_digest: String(r.action_digest),
    requester: String(r.requester),
    summary: body.summary,
    args: body.args,
    plan: body.plan,
    policy: body.policy,
    decisions: JSON.parse(String(r.decisions)) as ApprovalDecision[],
    created_at: String(r.created_at),
    expires_at: String(r.expires_at),
  };
  if (body.service !== undefined) out.service = body.service;
  if (r.approved_at != null) out.approved_at = String(r.approved_at);
  if (r.token_expires_at != null) out.token_expires_at = String(r.token_expires_at);
  if (r.consumed_at != null) out.consumed_at = String(r.consumed_at);
  if (r.token_issued_at != null) out.token_issued_at = String(r.token_issued_at);
  return out;
}

function toDoc<T>(r: Row): StoredDoc<T> {
  return {
    collection: String(r.collection),
    id: String(r.id),
    version: Number(r.version),
    updated_at: String(r.updated_at),
    value: JSON.parse(String(r.value)) as T,
  };
}

/** SQLite result codes (primary, low byte) that explain an unavailable store in plain words. */
const SQLITE_REASONS: Record<number, string> = {
  5: 'the database is locked by another process for longer than the busy timeout',
  8: 'the database is read-only',
  10: 'a disk I/O error occurred',
  11: 'the database file is corrupt',
  13: 'the disk is full',
  14: 'the database file cannot be opened',
  26: 'the file is not a SQLite database',
};

/** Translates a driver failure; domain errors (conflicts, approval state) pass through unchanged. */
function unavailable(path: string, err: unknown): Error {
  if (
    err instanceof StoreUnavailableError ||
    err instanceof VersionConflictError ||
    err instanceof ApprovalStateError
  )
    return err;
  if (err instanceof RangeError) return err;
  const e = err as { errcode?: number; message?: string };
  const reason =
    (typeof e.errcode === 'number' && SQLITE_REASONS[e.errcode & 0xff]) || e.message || String(err);
  return new StoreUnavailableError(`SQLite store ${path} is unavailable: ${reason}`, { cause: err });
}

/** The WHERE clause of an audit query (empty without filters) and its parameters. */
function auditWhere(q: Omit<AuditQuery, 'limit' | 'desc'>): { where: string; params: SQLInputValue[] } {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (cond: string, value: SQLInputValue) => {
    where.push(cond);
    params.push(value);
  };
  if (q.afterSeq !== undefined) add('seq > ?', q.afterSeq);
  if (q.beforeSeq !== undefined) add('seq < ?', q.beforeSeq);
  if (q.since !== undefined) add('ts >= ?', isoTime(q.since));
  for (const field of ['tool', 'env', 'principal', 'event', 'service'] as const) {
    const value = q[field];
    if (value !== undefined) add(`json_extract(record, '$.${field}') = ?`, value);
  }
  if (q.call !== undefined) add(`json_extract(record, '$.call') = ?`, q.call);
  if (q.approval_id !== undefined) add(`json_extract(record, '$.approval.id') = ?`, q.approval_id);
  if (q.excludeEvent !== undefined) add(`json_extract(record, '$.event') <> ?`, q.excludeEvent);
  if (q.opensAction) {
    const event = `coalesce(json_extract(record, '$.event'), '')`;
    where.push(
      `${event} NOT IN ('resource.read', 'tool.outcome') AND ${event} NOT LIKE 'approval.%'` +
        ` AND NOT (${event} = 'tool.execute' AND json_type(record, '$.approval.id') IS 'text')`,
    );
  }
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}
