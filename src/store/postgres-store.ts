import pg from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import {
  applyDecision,
  consumeFailure,
  tokenHash,
  unissuedTokenHash,
  wrongPrincipal,
} from './approval-state.js';
import { isoTime, sealAudit } from './audit-chain.js';
import type { CancelBus } from './cancel-bus.js';
import { PostgresCancelBus } from './postgres-cancel-bus.js';
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

/** The schema day2 keeps its tables in unless told otherwise. */
export const DEFAULT_PG_SCHEMA = 'day2';

const SCHEMA_VERSION = 4;

/** Each entry migrates the schema from version i to i + 1; `$s` is the quoted schema name. */
const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE IF NOT EXISTS $s.audit (
  seq bigint PRIMARY KEY,
  ts text NOT NULL,
  record text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ts ON $s.audit (ts);
CREATE TABLE IF NOT EXISTS $s.audit_checkpoints (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  ts text NOT NULL,
  key_id text NOT NULL,
  signature text NOT NULL
);
CREATE TABLE IF NOT EXISTS $s.approvals (
  id text PRIMARY KEY,
  status text NOT NULL,
  action_digest text NOT NULL,
  requester text NOT NULL,
  token text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  approved_at timestamptz,
  token_expires_at timestamptz,
  consumed_at timestamptz,
  decisions text NOT NULL,
  body text NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_digest ON $s.approvals (action_digest, requester, status);
CREATE INDEX IF NOT EXISTS approvals_status ON $s.approvals (status, created_at);
CREATE TABLE IF NOT EXISTS $s.docs (
  collection text NOT NULL,
  id text NOT NULL,
  version integer NOT NULL,
  updated_at timestamptz NOT NULL,
  value jsonb NOT NULL,
  PRIMARY KEY (collection, id)
);
`,
  // The audit tables are append-only for every role whose triggers fire (all but a superuser who
  // switches them off): UPDATE, DELETE and TRUNCATE are refused, and PUBLIC holds no such grant.
  `
CREATE OR REPLACE FUNCTION $s.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'day2 audit table %.% is append-only: % is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = '42501';
END
$fn$;
DROP TRIGGER IF EXISTS audit_append_only ON $s.audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON $s.audit
  FOR EACH ROW EXECUTE FUNCTION $s.audit_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON $s.audit;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON $s.audit
  FOR EACH STATEMENT EXECUTE FUNCTION $s.audit_append_only();
DROP TRIGGER IF EXISTS audit_append_only ON $s.audit_checkpoints;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON $s.audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION $s.audit_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON $s.audit_checkpoints;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON $s.audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION $s.audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON $s.audit, $s.audit_checkpoints FROM PUBLIC;
`,
  // The approvals table keeps only the SHA-256 of a token. Tokens stored in plain text before are
  // hashed in place and count as issued (they may have been shown); each still works, once, for
  // its requester.
  `
ALTER TABLE $s.approvals ADD COLUMN IF NOT EXISTS token_issued_at timestamptz;
UPDATE $s.approvals SET token = encode(sha256(convert_to(token, 'UTF8')), 'hex'), token_issued_at = now();
`,
  // Readers of one kind of event (the change ledger's executes and outcomes, search_audit) walk
  // this index newest first instead of parsing every record in their window.
  `
CREATE INDEX IF NOT EXISTS audit_event ON $s.audit ((record::jsonb ->> 'event'), seq);
`,
];

export interface PostgresStoreOptions {
  clock?: Clock;
  /** Schema holding day2's tables (created if missing); default `day2`. */
  schema?: string;
  /** Pool size; default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing; default 10 s. */
  connectTimeoutMs?: number;
}

type Queryable = Pick<PoolClient, 'query'>;

/**
 * The shared store for replicated deployments. The audit chain is appended under a transaction-
 * scoped advisory lock, so any number of processes append without forking it (the seq primary key
 * is the last guard); tokens are consumed by one conditional UPDATE, so exactly one caller wins.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly clock: Clock;
  private readonly s: string;
  private readonly where: string;
  private readonly connectTimeoutMs: number;
  private closed = false;

  private constructor(
    private readonly url: string,
    readonly schema: string,
    opts: PostgresStoreOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.s = quoteIdent(schema);
    this.where = describeUrl(url);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: this.connectTimeoutMs,
      application_name: 'day2',
    });
    // An idle connection that dies (server restart) must not crash the process; the next query
    // gets a fresh connection or a StoreUnavailableError.
    this.pool.on('error', () => {});
  }

  /** Connects and creates or migrates the tables. Throws StoreUnavailableError. */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = opts.schema ?? DEFAULT_PG_SCHEMA;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema))
      throw new RangeError(`not a valid PostgreSQL schema name: ${schema}`);
    const store = new PostgresStore(url, schema, opts);
    try {
      await store.migrate();
    } catch (err) {
      await store.pool.end().catch(() => {});
      throw store.unavailable(err);
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const versionOf = async (c: Queryable): Promise<number> => {
      const meta = await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
        `${this.s}.meta`,
      ]);
      if (!meta.rows[0]?.t) return 0;
      const v = await c.query<{ value: string }>(
        `SELECT value FROM ${this.s}.meta WHERE key = 'schema_version'`,
      );
      return Number(v.rows[0]?.value ?? 0);
    };
    // Checked first without a transaction so that a read-only connection (a hot standby, or a
    // role with default_transaction_read_only) can open an up-to-date store for reading.
    if ((await versionOf(this.pool)) >= SCHEMA_VERSION) return;
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['day2.migrate']);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.s}`);
      await c.query(`CREATE TABLE IF NOT EXISTS ${this.s}.meta (key text PRIMARY KEY, value text NOT NULL)`);
      for (let v = await versionOf(c); v < SCHEMA_VERSION; v++) {
        await c.query(MIGRATIONS[v]!.replaceAll('$s', this.s));
        await c.query(
          `INSERT INTO ${this.s}.meta (key, value) VALUES ('schema_version', $1)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          [String(v + 1)],
        );
      }
    });
  }

  /** Runs `fn` in a transaction on one pooled connection; rolls back on error. */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors only on idle clients: a connection that dies between two of
    // this transaction's queries (a server restart) would emit one nobody hears and end the process.
    const onError = (err: Error) => void (broken ??= err);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  /** Runs `fn`, translating driver failures into StoreUnavailableError. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      if (this.closed) throw new StoreUnavailableError(`PostgreSQL store ${this.where} is closed`);
      return await fn();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  private q<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  private unavailable(err: unknown): Error {
    if (
      err instanceof StoreUnavailableError ||
      err instanceof VersionConflictError ||
      err instanceof ApprovalStateError
    )
      return err;
    if (err instanceof RangeError) return err;
    return new StoreUnavailableError(`PostgreSQL store ${this.where} is unavailable: ${pgReason(err)}`, {
      cause: err,
    });
  }

  appendAudit(input: AuditInput, ts?: string): Promise<AuditRecord> {
    return this.appendAuditBatch([{ input, ts }]).then((records) => records[0]!);
  }

  appendAuditBatch(
    items: ReadonlyArray<{ input: AuditInput; ts?: string }>,
    opts: { durable?: boolean } = {},
  ): Promise<AuditRecord[]> {
    return this.run(async () => {
      if (items.length === 0) return [];
      const now = this.clock.now().toISOString();
      const pending = items.map((i) => ({ input: i.input, ts: i.ts === undefined ? now : isoTime(i.ts) }));
      return this.tx(async (c) => {
        // Batches of read audits need not wait for the WAL flush; the chain order is unaffected.
        if (opts.durable === false) await c.query('SET LOCAL synchronous_commit TO off');
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`day2.audit:${this.schema}`]);
        const head = await c.query<{ seq: string; hash: string }>(
          `SELECT seq, hash FROM ${this.s}.audit ORDER BY seq DESC LIMIT 1`,
        );
        const h = head.rows[0];
        const records = sealAudit(h && { seq: Number(h.seq), hash: h.hash }, pending);
        await c.query(
          `INSERT INTO ${this.s}.audit (seq, ts, record, prev_hash, hash)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])`,
          [
            records.map((r) => r.seq),
            records.map((r) => r.ts),
            records.map((r) => r.record),
            records.map((r) => r.prev_hash),
            records.map((r) => r.hash),
          ],
        );
        return records;
      });
    });
  }

  queryAudit(q: AuditQuery): Promise<AuditRecord[]> {
    return this.run(async () => {
      const { where, params } = auditWhere(q);
      params.push(Math.max(0, Math.floor(q.limit)));
      const sql =
        `SELECT seq, ts, record, prev_hash, hash FROM ${this.s}.audit ${where}` +
        ` ORDER BY seq ${q.desc ? 'DESC' : 'ASC'} LIMIT $${params.length}`;
      return (await this.q<AuditRow>(sql, params)).rows.map(toAuditRecord);
    });
  }

  countAudit(q: Omit<AuditQuery, 'limit' | 'desc'>): Promise<number> {
    return this.run(async () => {
      const { where, params } = auditWhere(q);
      const res = await this.q<{ n: string }>(`SELECT count(*) AS n FROM ${this.s}.audit ${where}`, params);
      return Number(res.rows[0]?.n ?? 0);
    });
  }

  async *scanAudit(batchSize: number, afterSeq = 0): AsyncIterable<AuditRecord[]> {
    let after = afterSeq;
    for (;;) {
      const res = await this.run(() =>
        this.q<AuditRow>(
          `SELECT seq, ts, record, prev_hash, hash FROM ${this.s}.audit WHERE seq > $1 ORDER BY seq LIMIT $2`,
          [after, batchSize],
        ),
      );
      const batch = res.rows.map(toAuditRecord);
      if (batch.length === 0) return;
      yield batch;
      after = batch[batch.length - 1]!.seq;
      if (batch.length < batchSize) return;
    }
  }

  async *scanChain(batchSize: number, afterSeq = 0): AsyncIterable<AuditChainLink[]> {
    let after = afterSeq;
    for (;;) {
      const res = await this.run(() =>
        this.pool.query<[string, string, string, string]>({
          text: `SELECT seq, hash, prev_hash, record FROM ${this.s}.audit WHERE seq > $1 ORDER BY seq LIMIT $2`,
          values: [after, batchSize],
          rowMode: 'array',
        }),
      );
      const batch = res.rows.map((r): AuditChainLink => [Number(r[0]), r[1], r[2], r[3]]);
      if (batch.length === 0) return;
      yield batch;
      after = batch[batch.length - 1]![0];
      if (batch.length < batchSize) return;
    }
  }

  auditHead(): Promise<{ seq: number; hash: string } | undefined> {
    return this.run(async () => {
      const row = (
        await this.q<{ seq: string; hash: string }>(
          `SELECT seq, hash FROM ${this.s}.audit ORDER BY seq DESC LIMIT 1`,
        )
      ).rows[0];
      return row && { seq: Number(row.seq), hash: row.hash };
    });
  }

  addCheckpoint(cp: AuditCheckpoint): Promise<void> {
    return this.run(async () => {
      await this.q(
        `INSERT INTO ${this.s}.audit_checkpoints (seq, hash, ts, key_id, signature) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (seq) DO NOTHING`,
        [cp.seq, cp.hash, cp.ts, cp.key_id, cp.signature],
      );
    });
  }

  checkpoints(): Promise<AuditCheckpoint[]> {
    return this.run(async () => {
      const res = await this.q<{ seq: string; hash: string; ts: string; key_id: string; signature: string }>(
        `SELECT seq, hash, ts, key_id, signature FROM ${this.s}.audit_checkpoints ORDER BY seq`,
      );
      return res.rows.map((r) => ({ ...r, seq: Number(r.seq) }));
    });
  }

  createApproval(
    req: Omit<ApprovalRequest, 'status' | 'decisions' | 'token_issued_at'>,
  ): Promise<{ request: ApprovalRequest; created: boolean }> {
    return this.run(async () => {
      const createdAt = isoTime(req.created_at);
      const expiresAt = isoTime(req.expires_at);
      return this.tx(async (c) => {
        // Serializes creators of the same action so that two replicas cannot both create one.
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
          `day2.approval:${this.schema}:${req.action_digest}:${req.requester}`,
        ]);
        const existing = await c.query<ApprovalRow>(
          `SELECT * FROM ${this.s}.approvals
           WHERE action_digest = $1 AND requester = $2 AND status = 'pending' AND expires_at > $3::timestamptz
           ORDER BY created_at DESC LIMIT 1`,
          [req.action_digest, req.requester, createdAt],
        );
        if (existing.rows[0]) return { request: toApproval(existing.rows[0]), created: false };
        const inserted = await c.query<ApprovalRow>(
          `INSERT INTO ${this.s}.approvals (id, status, action_digest, requester, token, created_at, expires_at, decisions, body)
           VALUES ($1, 'pending', $2, $3, $4, $5, $6, '[]', $7) RETURNING *`,
          [
            req.id,
            req.action_digest,
            req.requester,
            unissuedTokenHash(),
            createdAt,
            expiresAt,
            approvalBody(req),
          ],
        );
        return { request: toApproval(inserted.rows[0]!), created: true };
      });
    });
  }

  getApproval(id: string): Promise<ApprovalRequest | undefined> {
    return this.run(async () => {
      const row = (await this.q<ApprovalRow>(`SELECT * FROM ${this.s}.approvals WHERE id = $1`, [id]))
        .rows[0];
      return row && toApproval(row);
    });
  }

  listApprovals(filter: { status?: ApprovalStatus; limit: number }): Promise<ApprovalRequest[]> {
    return this.run(async () => {
      const limit = Math.max(0, Math.floor(filter.limit));
      const res = filter.status
        ? await this.q<ApprovalRow>(
            `SELECT * FROM ${this.s}.approvals WHERE status = $1 ORDER BY created_at DESC, id LIMIT $2`,
            [filter.status, limit],
          )
        : await this.q<ApprovalRow>(
            `SELECT * FROM ${this.s}.approvals ORDER BY created_at DESC, id LIMIT $1`,
            [limit],
          );
      return res.rows.map(toApproval);
    });
  }

  decideApproval(
    id: string,
    decision: ApprovalDecision,
    now: string,
    ttlMs: number,
  ): Promise<ApprovalRequest> {
    return this.run(async () => {
      const at = isoTime(now);
      const outcome = await this.tx(async (c) => {
        const row = (
          await c.query<ApprovalRow>(`SELECT * FROM ${this.s}.approvals WHERE id = $1 FOR UPDATE`, [id])
        ).rows[0];
        if (!row) throw new ApprovalStateError(id, 'unknown');
        const result = applyDecision(toApproval(row), { ...decision, at: isoTime(decision.at) }, at, ttlMs);
        if (result.kind !== 'unchanged') {
          const r = result.request;
          await c.query(
            `UPDATE ${this.s}.approvals SET status = $1, decisions = $2, approved_at = $3, token_expires_at = $4 WHERE id = $5`,
            [r.status, JSON.stringify(r.decisions), r.approved_at ?? null, r.token_expires_at ?? null, id],
          );
        }
        return result;
      });
      if (outcome.kind === 'expired') throw new ApprovalStateError(id, 'expired');
      return outcome.request;
    });
  }

  issueToken(id: string, token: string, now: string): Promise<ApprovalRequest | undefined> {
    return this.run(async () => {
      const row = (
        await this.q<ApprovalRow>(
          `UPDATE ${this.s}.approvals SET token = $1, token_issued_at = $2
           WHERE id = $3 AND status = 'approved' AND token_issued_at IS NULL AND token_expires_at > $2
           RETURNING *`,
          [tokenHash(token), isoTime(now), id],
        )
      ).rows[0];
      return row && toApproval(row);
    });
  }

  consumeToken(token: string, actionDigest: string, principal: string, now: string): Promise<ConsumeResult> {
    return this.consumeOnce('token', tokenHash(token), actionDigest, principal, now);
  }

  consumeApproval(id: string, actionDigest: string, principal: string, now: string): Promise<ConsumeResult> {
    return this.consumeOnce('id', id, actionDigest, principal, now);
  }

  /** Both redemptions: the row whose `column` is `key` (a token's hash, or an id), consumed by one conditional UPDATE. */
  private consumeOnce(
    column: 'token' | 'id',
    key: string,
    actionDigest: string,
    principal: string,
    now: string,
  ): Promise<ConsumeResult> {
    return this.run(async (): Promise<ConsumeResult> => {
      const at = isoTime(now);
      const find = async () => {
        const row = (
          await this.q<ApprovalRow>(`SELECT * FROM ${this.s}.approvals WHERE ${column} = $1`, [key])
        ).rows[0];
        return row && toApproval(row);
      };
      // The requester never changes, so checking it before the conditional UPDATE is race-free.
      const before = await find();
      const refused = before && wrongPrincipal(before, principal);
      if (refused) return refused;
      const won = await this.q<ApprovalRow>(
        `UPDATE ${this.s}.approvals SET status = 'consumed', consumed_at = $1
         WHERE ${column} = $2 AND status = 'approved' AND action_digest = $3 AND token_expires_at > $1
         RETURNING *`,
        [at, key, actionDigest],
      );
      if (won.rows[0]) return { ok: true, request: toApproval(won.rows[0]) };
      return consumeFailure(await find(), actionDigest, at);
    });
  }

  releaseApproval(id: string, consumedAt: string): Promise<boolean> {
    return this.run(async () => {
      const res = await this.q(
        `UPDATE ${this.s}.approvals SET status = 'approved', consumed_at = NULL
         WHERE id = $1 AND status = 'consumed' AND consumed_at = $2::timestamptz`,
        [id, isoTime(consumedAt)],
      );
      return (res.rowCount ?? 0) > 0;
    });
  }

  expireApprovals(now: string): Promise<number> {
    return this.run(async () => {
      const res = await this.q(
        `UPDATE ${this.s}.approvals SET status = 'expired'
         WHERE (status = 'pending' AND expires_at <= $1) OR (status = 'approved' AND token_expires_at <= $1)`,
        [isoTime(now)],
      );
      return res.rowCount ?? 0;
    });
  }

  getDoc<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    return this.run(async () => {
      const row = (
        await this.q<DocRow>(`SELECT * FROM ${this.s}.docs WHERE collection = $1 AND id = $2`, [
          collection,
          id,
        ])
      ).rows[0];
      return row && toDoc<T>(row);
    });
  }

  putDoc<T>(collection: string, id: string, value: T, expectedVersion?: number): Promise<StoredDoc<T>> {
    return this.run(async () => {
      const now = this.clock.now().toISOString();
      const text = JSON.stringify(value);
      let res: pg.QueryResult<DocRow>;
      if (expectedVersion === undefined) {
        res = await this.q<DocRow>(
          `INSERT INTO ${this.s}.docs (collection, id, version, updated_at, value) VALUES ($1, $2, 1, $3, $4::jsonb)
           ON CONFLICT (collection, id) DO UPDATE SET version = docs.version + 1, updated_at = excluded.updated_at, value = excluded.value
           RETURNING *`,
          [collection, id, now, text],
        );
      } else if (expectedVersion === 0) {
        res = await this.q<DocRow>(
          `INSERT INTO ${this.s}.docs (collection, id, version, updated_at, value) VALUES ($1, $2, 1, $3, $4::jsonb)
           ON CONFLICT (collection, id) DO NOTHING RETURNING *`,
          [collection, id, now, text],
        );
      } else {
        res = await this.q<DocRow>(
          `UPDATE ${this.s}.docs SET version = version + 1, updated_at = $1, value = $2::jsonb
           WHERE collection = $3 AND id = $4 AND version = $5 RETURNING *`,
          [now, text, collection, id, expectedVersion],
        );
      }
      const row = res.rows[0];
      if (!row) throw new VersionConflictError(collection, id);
      return toDoc<T>(row);
    });
  }

  listDocs<T>(collection: string, limit: number, afterId = ''): Promise<StoredDoc<T>[]> {
    return this.run(async () => {
      const res = await this.q<DocRow>(
        `SELECT * FROM ${this.s}.docs WHERE collection = $1 AND id COLLATE "C" > $2 ORDER BY id COLLATE "C" LIMIT $3`,
        [collection, afterId, Math.max(0, Math.floor(limit))],
      );
      return res.rows.map((r) => toDoc<T>(r));
    });
  }

  deleteDoc(collection: string, id: string): Promise<boolean> {
    return this.run(async () => {
      const res = await this.q(`DELETE FROM ${this.s}.docs WHERE collection = $1 AND id = $2`, [
        collection,
        id,
      ]);
      return (res.rowCount ?? 0) > 0;
    });
  }

  /** LISTEN/NOTIFY in this store's database, scoped to its schema; see PostgresCancelBus. */
  openCancelBus(log: Logger): CancelBus {
    return new PostgresCancelBus({
      url: this.url,
      schema: this.schema,
      publisher: this.pool,
      log,
      connectTimeoutMs: this.connectTimeoutMs,
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

interface AuditRow {
  seq: string;
  ts: string;
  record: string;
  prev_hash: string;
  hash: string;
}

interface ApprovalRow {
  id: string;
  status: ApprovalStatus;
  action_digest: string;
  requester: string;
  token: string;
  created_at: Date;
  expires_at: Date;
  approved_at: Date | null;
  token_expires_at: Date | null;
  consumed_at: Date | null;
  token_issued_at: Date | null;
  decisions: string;
  body: string;
}

interface DocRow {
  collection: string;
  id: string;
  version: number;
  updated_at: Date;
  value: unknown;
}

function toAuditRecord(r: AuditRow): AuditRecord {
  return { seq: Number(r.seq), ts: r.ts, record: r.record, prev_hash: r.prev_hash, hash: r.hash };
}

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

function toApproval(r: ApprovalRow): ApprovalRequest {
  const body = JSON.parse(r.body) as Pick<
    ApprovalRequest,
    'tool' | 'env' | 'service' | 'summary' | 'args' | 'plan' | 'policy'
  >;
  const out: ApprovalRequest = {
    id: r.id,
    status: r.status,
    tool: body.tool,
    env: body.env,
    action_digest: r.action_digest,
    requester: r.requester,
    summary: body.summary,
    args: body.args,
    plan: body.plan,
    policy: body.policy,
    decisions: JSON.parse(r.decisions) as ApprovalDecision[],
    created_at: r.created_at.toISOString(),
    expires_at: r.expires_at.toISOString(),
  };
  if (body.service !== undefined) out.service = body.service;
  if (r.approved_at) out.approved_at = r.approved_at.toISOString();
  if (r.token_expires_at) out.token_expires_at = r.token_expires_at.toISOString();
  if (r.consumed_at) out.consumed_at = r.consumed_at.toISOString();
  if (r.token_issued_at) out.token_issued_at = r.token_issued_at.toISOString();
  return out;
}

function toDoc<T>(r: DocRow): StoredDoc<T> {
  return {
    collection: r.collection,
    id: r.id,
    version: r.version,
    updated_at: r.updated_at.toISOString(),
    value: r.value as T,
  };
}

function quoteIdent(name: string): string {
  return '"' + name.replaceAll('"', '""') + '"';
}

/** `host:port/db` of a connection string, never its user or password, for error messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || ''}`;
  } catch {
    return '(unparsable connection string)';
  }
}

/** SQLSTATE codes and socket errors that explain an unavailable store in plain words. */
const PG_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is PostgreSQL running and listening there?)',
  ENOTFOUND: 'the host name does not resolve',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
  '25006': 'the connection is read-only (a standby, or default_transaction_read_only is on)',
  '42501': 'the database role lacks the privilege for this operation',
  '53100': 'the database server is out of disk space',
  '53200': 'the database server is out of memory',
  '53300': 'too many connections',
  '57P01': 'the server is shutting down',
  '57P02': 'the server is shutting down',
  '57P03': 'the server is not accepting connections yet',
  '28P01': 'authentication failed',
  '28000': 'authentication failed',
  '3D000': 'the database does not exist',
};

function pgReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const known = e.code ? PG_REASONS[e.code] : undefined;
  if (known) return `${known} [${e.code}]`;
  if (e.message?.includes('after calling end on the pool')) return 'the store was closed';
  if (e.code?.startsWith('08')) return `the connection failed [${e.code}]`;
  return e.message ?? String(err);
}

/** The WHERE clause of an audit query (empty without filters) and its parameters ($1, $2, …). */
function auditWhere(q: Omit<AuditQuery, 'limit' | 'desc'>): { where: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(cond(`$${params.length}`));
  };
  if (q.afterSeq !== undefined) add((n) => `seq > ${n}`, q.afterSeq);
  if (q.beforeSeq !== undefined) add((n) => `seq < ${n}`, q.beforeSeq);
  if (q.since !== undefined) add((n) => `ts >= ${n}`, isoTime(q.since));
  for (const field of ['tool', 'env', 'principal', 'event', 'service'] as const) {
    const value = q[field];
    if (value !== undefined) add((n) => `record::jsonb ->> '${field}' = ${n}`, value);
  }
  if (q.call !== undefined) add((n) => `record::jsonb ->> 'call' = ${n}`, q.call);
  if (q.approval_id !== undefined) add((n) => `record::jsonb -> 'approval' ->> 'id' = ${n}`, q.approval_id);
  if (q.excludeEvent !== undefined) add((n) => `record::jsonb ->> 'event' <> ${n}`, q.excludeEvent);
  if (q.opensAction) {
    const event = `coalesce(record::jsonb ->> 'event', '')`;
    where.push(
      `${event} NOT IN ('resource.read', 'tool.outcome') AND ${event} NOT LIKE 'approval.%'` +
        ` AND NOT (${event} = 'tool.execute' AND jsonb_typeof(record::jsonb -> 'approval' -> 'id') IS NOT DISTINCT FROM 'string')`,
    );
  }
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}
