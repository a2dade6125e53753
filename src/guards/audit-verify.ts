import { createHash, createPublicKey, hash, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuditChainLink, AuditCheckpoint, Store } from '../store/store.js';
import { canonicalJson, GENESIS_HASH } from '../core/canonical-json.js';

export type VerifyResult =
  | {
      ok: true;
      /** Records checked, which is also the last seq. */
      records: number;
      /** Checkpoints that matched the chain. */
      checkpoints: number;
      /** False when no public key was given: checkpoints were compared with the chain but their signatures were not checked. */
      signatures_verified: boolean;
      head?: { seq: number; hash: string };
      /** With a readable witness: how many checkpoints it holds and the last seq they cover. */
      witness?: { checkpoints: number; latest_seq: number };
    }
  | { ok: false; first_bad_seq: number; reason: string; records_checked: number };

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(cp: Pick<AuditCheckpoint, 'seq' | 'hash' | 'ts'>): Buffer {
  return Buffer.from(canonicalJson({ seq: cp.seq, hash: cp.hash, ts: cp.ts }));
}

/** A key's id: the first 16 hex digits of SHA-256 over its public key (SPKI DER). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** The public half of a PEM file holding an Ed25519 private or public key. */
export function publicKeyFromFile(path: string): KeyObject {
  return createPublicKey(readFileSync(path));
}

export interface VerifyOptions {
  /** Records read per batch; default 20,000. */
  batchSize?: number;
  /** The checkpoints a witness outside the store holds (see AuditWitness.read). */
  witness?: AuditCheckpoint[];
  /**
   * A signing key is configured: a log with records and no signed checkpoint at all was stripped of
   * them, not merely never signed (day2 signs the first record of a log at once).
   */
  requireCheckpoints?: boolean;
  /** Consumed approvals younger than this may still have their audit record in flight; default 60 s. */
  graceMs?: number;
  now?: Date;
}

/** A chain hash that some checkpoint vouches for, and who keeps that checkpoint. */
interface Expected {
  seq: number;
  hash: string;
  source: 'store' | 'witness';
}

/**
 * Walks the whole audit chain against the signed checkpoints in the store and, when given, those
 * a witness holds outside it. Names the first bad seq when a record was edited (hash mismatch),
 * truncated, deleted (seq gap or broken prev_hash link), reordered, when the chain was rewritten
 * below a checkpoint, or when the tail was cut below one. It also checks what a governed write
 * leaves behind: every `approval.consumed` and `tool.outcome` follows its `tool.execute`, every
 * outcome of an approved write follows its `approval.consumed`, and every consumed approval has
 * one. With `publicKeys`, every checkpoint must carry a valid signature from one of them.
 */
export async function verifyAudit(
  store: Store,
  publicKeys?: KeyObject | string | ReadonlyArray<KeyObject | string>,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const keys = toKeys(publicKeys);
  const cps = await store.checkpoints();
  const witness = opts.witness;

  if (keys) {
    const signed = [
      ...cps.map((cp) => ({ cp, where: 'the checkpoint' })),
      ...(witness ?? []).map((cp) => ({ cp, where: "the witness's checkpoint" })),
    ].sort((a, b) => a.cp.seq - b.cp.seq);
    for (const { cp, where } of signed) {
      const key = keys.get(cp.key_id);
      if (!key) return bad(cp.seq, `${where} at seq ${cp.seq} is signed by an unknown key (${cp.key_id})`, 0);
      if (!verifySignature(key, cp))
        return bad(cp.seq, `${where} at seq ${cp.seq} has an invalid signature`, 0);
    }
  }
  const expected: Expected[] = [
    ...cps.map((c): Expected => ({ seq: c.seq, hash: c.hash, source: 'store' })),
    ...(witness ?? []).map((c): Expected => ({ seq: c.seq, hash: c.hash, source: 'witness' })),
  ].sort((a, b) => a.seq - b.seq);

  let next = 1;
  let prev = GENESIS_HASH;
  let cpIndex = 0;
  let lastGoodCp = 0;
  const storeSeqs = new Set(cps.map((c) => c.seq));
  const trail = new WriteTrail();
  for await (const batch of chainOf(store, opts.batchSize ?? 20_000)) {
    for (const [seq, storedHash, prevHash, record] of batch) {
      if (seq !== next) {
        const reason =
          seq > next
            ? seq === next + 1
              ? `record ${next} is missing (the next record is ${seq})`
              : `records ${next} to ${seq - 1} are missing`
            : `record ${seq} appears out of order after record ${next - 1}`;
        return bad(next, reason, next - 1);
      }
      if (prevHash !== prev) {
        return bad(
          seq,
          `record ${seq} does not link to record ${seq - 1}: a record was removed, replaced or moved`,
          seq - 1,
        );
      }
      // The hot loop: one one-shot SHA-256 over the exact stored text, no JSON parsing.
      const h = hash('sha256', prev + record, 'hex');
      if (h !== storedHash) {
        return bad(
          seq,
          isCompleteJson(record)
            ? `record ${seq} was edited: its text does not match its hash`
            : `record ${seq} is truncated: its text is not complete JSON`,
          seq - 1,
        );
      }
      trail.see(seq, record);
      while (expected[cpIndex] !== undefined && expected[cpIndex]!.seq === seq) {
        const cp = expected[cpIndex]!;
        if (cp.hash !== h) {
          const whose = cp.source === 'witness' ? "the witness's signed checkpoint" : 'its signed checkpoint';
          return bad(
            lastGoodCp + 1,
            `the chain at seq ${seq} differs from ${whose}: records ${lastGoodCp + 1} to ${seq} were rewritten`,
            lastGoodCp,
          );
        }
        cpIndex++;
      }
      if (expected[cpIndex - 1]?.seq === seq) lastGoodCp = seq;
      prev = h;
      next = seq + 1;
    }
  }

  const last = next - 1;
  const beyond = expected[cpIndex];
  if (beyond !== undefined) {
    const whose = beyond.source === 'witness' ? 'the witness holds' : 'the store holds';
    return bad(
      last + 1,
      `the log ends at seq ${last} but ${whose} a signed checkpoint at seq ${beyond.seq}: records ${last + 1} to ${beyond.seq} were removed from the end`,
      last,
    );
  }
  if (last > 0 && opts.requireCheckpoints && expected.length === 0) {
    return bad(
      1,
      `the log has ${last} records but no signed checkpoint although a signing key is configured: the checkpoints were removed`,
      0,
    );
  }
  if (last > 0 && witness !== undefined && witness.length === 0) {
    return bad(
      1,
      `the witness holds no checkpoint although the log has ${last} records: it was emptied, or day2 never reached it (see the serve log)`,
      0,
    );
  }
  const orphan = trail.firstProblem ?? (await missingConsumption(store, trail, opts));
  if (orphan) return bad(orphan.seq, orphan.reason, orphan.seq - 1);

  const result: VerifyResult = {
    ok: true,
    records: last,
    checkpoints: expected.filter((e) => e.source === 'store' || !storeSeqs.has(e.seq)).length,
    signatures_verified: keys !== undefined,
  };
  if (last > 0) result.head = { seq: last, hash: prev };
  if (witness)
    result.witness = {
      checkpoints: witness.length,
      latest_seq: witness.reduce((m, c) => Math.max(m, c.seq), 0),
    };
  return result;
}

/**
 * What each governed write leaves in the chain, in order: `tool.execute` (durable, before
 * anything happens), then `approval.consumed` when a token was redeemed, then `tool.outcome`.
 * Removing some of them and re-hashing the chain leaves orphans behind.
 */
class WriteTrail {
  /** Executions not yet matched by an approval.consumed, and by an outcome, per action digest. */
  private readonly awaitingConsume = new Map<string, number>();
  private readonly awaitingOutcome = new Map<string, number>();
  readonly consumed = new Set<string>();
  firstProblem: { seq: number; reason: string } | undefined;

  see(seq: number, record: string): void {
    // Canonical JSON writes `"event":"…"` exactly so; only a write's records are parsed.
    if (
      !record.includes('"event":"tool.execute"') &&
      !record.includes('"event":"approval.consumed"') &&
      !record.includes('"event":"tool.outcome"')
    )
      return;
    const r = JSON.parse(record) as { event?: string; action_digest?: string; approval?: { id?: unknown } };
    const digest = r.action_digest ?? '';
    if (r.event === 'tool.execute') {
      bump(this.awaitingConsume, digest, 1);
      bump(this.awaitingOutcome, digest, 1);
    } else if (r.event === 'approval.consumed') {
      if (!bump(this.awaitingConsume, digest, -1))
        this.problem(
          seq,
          `record ${seq} consumes an approval for action ${digest.slice(0, 12)} that no earlier tool.execute record ran: the write's execute record was removed`,
        );
      if (typeof r.approval?.id === 'string') this.consumed.add(r.approval.id);
    } else if (r.event === 'tool.outcome') {
      if (!bump(this.awaitingOutcome, digest, -1))
        this.problem(
          seq,
          `record ${seq} is the outcome of action ${digest.slice(0, 12)} that no earlier tool.execute record ran: the write's execute record was removed`,
        );
      else if (typeof r.approval?.id === 'string' && !this.consumed.has(r.approval.id))
        this.problem(
          seq,
          `record ${seq} is the outcome of a write approved by ${r.approval.id} but no earlier approval.consumed record redeemed it: that record was removed (or dropped while the store was failing; see the serve log)`,
        );
    }
  }

  private problem(seq: number, reason: string): void {
    this.firstProblem ??= { seq, reason };
  }
}

/** Adds `by` to a counter; refuses (returns false) to take one from zero. */
function bump(m: Map<string, number>, key: string, by: 1 | -1): boolean {
  const n = (m.get(key) ?? 0) + by;
  if (n < 0) return false;
  m.set(key, n);
  return true;
}

/**
 * An approval the store says was consumed must have its `approval.consumed` record: a write whose
 * records were all removed still left its approval behind. Names the first record at or after the
 * consumption, where the missing records belong.
 */
async function missingConsumption(
  store: Store,
  trail: WriteTrail,
  opts: VerifyOptions,
): Promise<{ seq: number; reason: string } | undefined> {
  const cutoff = (opts.now ?? new Date()).getTime() - (opts.graceMs ?? 60_000);
  const consumed = await store.listApprovals({ status: 'consumed', limit: 1_000_000 });
  const missing = consumed
    .filter((a) => a.consumed_at && Date.parse(a.consumed_at) < cutoff && !trail.consumed.has(a.id))
    .sort((a, b) => a.consumed_at!.localeCompare(b.consumed_at!))[0];
  if (!missing) return undefined;
  const at = await store.queryAudit({ since: missing.consumed_at, limit: 1 });
  const seq = at[0]?.seq ?? (await store.auditHead())?.seq ?? 1;
  return {
    seq,
    reason: `approval ${missing.id} (${missing.tool} in ${missing.env}) was consumed at ${missing.consumed_at} but the log has no approval.consumed record for it: the write's records were removed`,
  };
}
/** The store's fast chain scan, or its record scan reshaped into links. */
async function* chainOf(store: Store, batchSize: number): AsyncIterable<AuditChainLink[]> {
  if (store.scanChain) {
    yield* store.scanChain(batchSize);
    return;
  }
  for await (const batch of store.scanAudit(batchSize)) {
    yield batch.map((r): AuditChainLink => [r.seq, r.hash, r.prev_hash, r.record]);
  }
}

function bad(first_bad_seq: number, reason: string, records_checked: number): VerifyResult {
  return { ok: false, first_bad_seq, reason, records_checked };
}

function verifySignature(key: KeyObject, cp: AuditCheckpoint): boolean {
  try {
    return verify(null, checkpointPayload(cp), key, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}

function toKeys(
  input: KeyObject | string | ReadonlyArray<KeyObject | string> | undefined,
): Map<string, KeyObject> | undefined {
  if (input === undefined) return undefined;
  const list: ReadonlyArray<KeyObject | string> = Array.isArray(input)
    ? input
    : [input as KeyObject | string];
  const keys = new Map<string, KeyObject>();
  for (const k of list) {
    const pub = typeof k === 'string' ? createPublicKey(k) : k.type === 'private' ? createPublicKey(k) : k;
    keys.set(keyIdOf(pub), pub);
  }
  return keys;
}

/** Only called on a record that already failed its hash, to tell truncation from editing. */
function isCompleteJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
