import type { Logger } from '../core/log.js';
import type { CancelBus } from './cancel-bus.js';

/**
 * Persistence behind one interface. Two implementations (embedded SQLite, shared PostgreSQL) pass
 * one contract suite (test/store/contract.test.ts). Every method is safe under concurrent callers
 * in one process and, for PostgreSQL, across processes: the audit chain never forks and a token is
 * never consumed twice.
 */

/** An audit event as the caller describes it; the store assigns seq, ts, prev_hash and hash. */
export interface AuditInput {
  event: string;
  principal?: string;
  client?: string;
  transport?: string;
  session?: string;
  /** The tool call a record belongs to: every record one call writes carries the same id. */
  call?: string;
  tool?: string;
  resource?: string;
  env?: string;
  service?: string;
  targets?: unknown[];
  args?: unknown;
  action_digest?: string;
  /** A write's plan summary, as the approver read it. */
  summary?: string;
  policy?: { version: string; hash: string; rule: string; decision: string };
  approval?: Record<string, unknown>;
  outcome?: { ok: boolean; error?: string; duration_ms?: number };
  detail?: Record<string, unknown>;
}

/** A stored audit record. `record` is the exact canonical JSON that was hashed. */
export interface AuditRecord {
  seq: number;
  ts: string;
  record: string;
  prev_hash: string;
  hash: string;
}

/**
 * One link of the chain as verification reads it: `[seq, hash, prev_hash, record]`, the exact
 * stored text. A tuple rather than an AuditRecord so that a million of them stream cheaply.
 */
export type AuditChainLink = [seq: number, hash: string, prev_hash: string, record: string];

/** A signed `{seq, hash}` checkpoint of the audit chain. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  ts: string;
  key_id: string;
  signature: string;
}

export interface AuditQuery {
  afterSeq?: number;
  beforeSeq?: number;
  since?: string;
  tool?: string;
  env?: string;
  principal?: string;
  event?: string;
  service?: string;
  /** Records of one tool call (AuditInput.call). */
  call?: string;
  /** Records naming this approval (`approval.id`). */
  approval_id?: string;
  /** Leaves out records of this event (resource reads, for a reader of actions). */
  excludeEvent?: string;
  /**
   * Only records that open an action (search_audit's lines): not resource reads, approval
   * decisions, outcomes, nor the execution of an approved request, which join the request.
   */
  opensAction?: boolean;
  limit: number;
  /** Newest first when true. */
  desc?: boolean;
}

export type ApprovalStatus = 'pending' | 'approved' | 'consumed' | 'denied' | 'expired';

export interface ApprovalDecision {
  principal: string;
  decision: 'approve' | 'deny';
  reason?: string;
  at: string;
  channel: string;
  /** The approver's Ed25519 signature of the decision (channel "signed"), base64. */
  signature?: string;
}

export interface ApprovalRequest {
  id: string;
  status: ApprovalStatus;
  tool: string;
  env: string;
  service?: string;
  action_digest: string;
  requester: string;
  summary: string;
  /** The tool arguments (redacted) and the plan shown to approvers. */
  args: unknown;
  plan: unknown;
  policy: {
    rule: string;
    approvals_needed: number;
    distinct_from_requester: boolean;
    reason_required: boolean;
    channels: string[];
    notify_owners: boolean;
    version: string;
    hash: string;
  };
  decisions: ApprovalDecision[];
  created_at: string;
  expires_at: string;
  /** Set when the last needed approval arrives; the token then expires at token_expires_at. */
  approved_at?: string;
  token_expires_at?: string;
  consumed_at?: string;
  /**
   * When the single-use token was handed out (issueToken). The store keeps only the token's
   * SHA-256, so no one, the store included, can show it a second time.
   */
  token_issued_at?: string;
}

export type ConsumeResult =
  | { ok: true; request: ApprovalRequest }
  | {
      ok: false;
      reason:
        'unknown' | 'expired' | 'consumed' | 'denied' | 'not_approved' | 'wrong_digest' | 'wrong_principal';
      request?: ApprovalRequest;
    };

/** A versioned JSON document in a named collection: rotations, incidents, access grants, ... */
export interface StoredDoc<T = unknown> {
  collection: string;
  id: string;
  version: number;
  updated_at: string;
  value: T;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Appends atomically to the hash chain and returns once durable. Throws StoreUnavailableError. */
  appendAudit(input: AuditInput, ts?: string): Promise<AuditRecord>;
  /**
   * Appends several events in one transaction (group commit), in order, each with its own ts
   * (default: now). All or none are written. Throws StoreUnavailableError. Both real stores have
   * it; AuditLog falls back to appendAudit one by one for stores without it. With
   * `durable: false` (AuditLog asks for it only for batches of reads) a store may return before
   * the batch reaches stable storage: it survives a crash of day2, not one of the database server
   * or its machine, until the next durable batch makes it durable too.
   */
  appendAuditBatch?(
    items: ReadonlyArray<{ input: AuditInput; ts?: string }>,
    opts?: { durable?: boolean },
  ): Promise<AuditRecord[]>;
  /** Reads records in seq order (or reverse with desc), filtered. */
  queryAudit(q: AuditQuery): Promise<AuditRecord[]>;
  /** How many records queryAudit would return for these filters without a limit. */
  countAudit(q: Omit<AuditQuery, 'limit' | 'desc'>): Promise<number>;
  /** Streams every record in seq order in batches; used by verify and export. */
  scanAudit(batchSize: number, afterSeq?: number): AsyncIterable<AuditRecord[]>;
  /** Optional fast path of scanAudit for verification; verifyAudit falls back to scanAudit. */
  scanChain?(batchSize: number, afterSeq?: number): AsyncIterable<AuditChainLink[]>;
  auditHead(): Promise<{ seq: number; hash: string } | undefined>;
  addCheckpoint(cp: AuditCheckpoint): Promise<void>;
  checkpoints(): Promise<AuditCheckpoint[]>;

  /**
   * Creates a request, or returns the pending unexpired one with the same digest and requester.
   * It has no token yet: issueToken hands one out once the request is approved.
   */
  createApproval(
    req: Omit<ApprovalRequest, 'status' | 'decisions' | 'token_issued_at'>,
  ): Promise<{ request: ApprovalRequest; created: boolean }>;
  getApproval(id: string): Promise<ApprovalRequest | undefined>;
  listApprovals(filter: { status?: ApprovalStatus; limit: number }): Promise<ApprovalRequest[]>;
  /**
   * Records an approve or deny atomically. A second approval by the same principal counts once;
   * with `distinct_from_requester` the requester's own approval is recorded but not counted.
   * A deny on an approved request whose token is unused revokes it (→ denied). Throws
   * ApprovalStateError when the request is unknown or otherwise no longer pending (a pending
   * request past its expiry is marked expired first). Moves to `approved` when `approvals_needed` distinct
   * approvals are in (setting approved_at and token_expires_at = now + ttlMs), or to `denied`.
   */
  decideApproval(
    id: string,
    decision: ApprovalDecision,
    now: string,
    ttlMs: number,
  ): Promise<ApprovalRequest>;
  /**
   * Hands out the token of an approved, unexpired request exactly once: atomically stores only
   * the SHA-256 of `token` and sets token_issued_at. Returns the updated request, or undefined when
   * the request is unknown, not approved, expired or its token was already issued.
   */
  issueToken(id: string, token: string, now: string): Promise<ApprovalRequest | undefined>;
  /**
   * Consumes a token once: atomically moves approved → consumed if the token's hash, the digest
   * and expiry match and `principal` is the requester (in canonical form). A token presented by
   * another principal is refused (`wrong_principal`) and left unconsumed.
   */
  consumeToken(token: string, actionDigest: string, principal: string, now: string): Promise<ConsumeResult>;
  /**
   * Consumes an approved request by its id, with consumeToken's atomic semantics (digest, expiry,
   * requester in canonical form, once): how the requester redeems its approval without a token.
   */
  consumeApproval(id: string, actionDigest: string, principal: string, now: string): Promise<ConsumeResult>;
  /**
   * Undoes one consumeToken or consumeApproval whose write could not be recorded (consumed →
   * approved), only if the row is still the consumption made at `consumedAt`. Returns whether it did.
   */
  releaseApproval(id: string, consumedAt: string): Promise<boolean>;
  /** Marks pending or approved requests whose time has passed as expired; returns how many. */
  expireApprovals(now: string): Promise<number>;

  getDoc<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined>;
  /** Writes a doc; with expectedVersion, only if the stored version matches (0 = must not exist). */
  putDoc<T>(collection: string, id: string, value: T, expectedVersion?: number): Promise<StoredDoc<T>>;
  listDocs<T>(collection: string, limit: number, afterId?: string): Promise<StoredDoc<T>[]>;
  deleteDoc(collection: string, id: string): Promise<boolean>;

  /**
   * Opens the channel through which the replicas sharing this store cancel each other's calls (see
   * CancelBus); the caller closes it. Only a store that several processes share has one; without
   * it there is no other replica to reach.
   */
  openCancelBus?(log: Logger): CancelBus;

  close(): Promise<void>;
}

/** The store could not be written or read; governed writes fail closed on it. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** putDoc's expectedVersion did not match. */
export class VersionConflictError extends Error {
  constructor(
    readonly collection: string,
    readonly id: string,
  ) {
    super(`${collection}/${id} was changed by someone else`);
    this.name = 'VersionConflictError';
  }
}

/** decideApproval on a request that is unknown or no longer pending. */
export class ApprovalStateError extends Error {
  constructor(
    readonly id: string,
    readonly status: ApprovalStatus | 'unknown',
  ) {
    super(
      status === 'unknown' ? `approval ${id} does not exist` : `approval ${id} is ${status}, not pending`,
    );
    this.name = 'ApprovalStateError';
  }
}
