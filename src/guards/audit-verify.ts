import { createHash, createPublicKey, hash, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuditChainLink, AuditCheckpoint, Store } from '../store/store.js';
import { canonicalJson, GENESIS_HASH } from './canonical-json.js';

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
}

/**
 * Walks the whole audit chain and its signed checkpoints. Names the first bad seq when a record
 * was edited (hash mismatch), truncated, deleted (seq gap or broken prev_hash link), reordered, or
 * when the tail was cut off below a signed checkpoint. With `publicKeys`, every checkpoint must
 * carry a valid signature from one of them; without, checkpoints are only compared with the chain.
 */
export async function verifyAudit(
  store: Store,
  publicKeys?: KeyObject | string | ReadonlyArray<KeyObject | string>,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const keys = toKeys(publicKeys);
  const cps = await store.checkpoints();
  cps.sort((a, b) => a.seq - b.seq);

  if (keys) {
    for (const cp of cps) {
      const key = keys.get(cp.key_id);
      if (!key)
        return bad(cp.seq, `the checkpoint at seq ${cp.seq} is signed by an unknown key (${cp.key_id})`, 0);
      if (!verifySignature(key, cp))
        return bad(cp.seq, `the checkpoint at seq ${cp.seq} has an invalid signature`, 0);
    }
  }

  let expected = 1;
  let prev = GENESIS_HASH;
  let cpIndex = 0;
  let nextCp = cps[0];
  let lastGoodCp = 0;
  for await (const batch of chainOf(store, opts.batchSize ?? 20_000)) {
    for (const [seq, storedHash, prevHash, record] of batch) {
      if (seq !== expected) {
        const reason =
          seq > expected
            ? seq === expected + 1
              ? `record ${expected} is missing (the next record is ${seq})`
              : `records ${expected} to ${seq - 1} are missing`
            : `record ${seq} appears out of order after record ${expected - 1}`;
        return bad(expected, reason, expected - 1);
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
      if (nextCp !== undefined && nextCp.seq === seq) {
        if (nextCp.hash !== h) {
          return bad(
            lastGoodCp + 1,
            `the chain at seq ${seq} differs from its signed checkpoint: records ${lastGoodCp + 1} to ${seq} were rewritten`,
            lastGoodCp,
          );
        }
        lastGoodCp = seq;
        nextCp = cps[++cpIndex];
      }
      prev = h;
      expected = seq + 1;
    }
  }

  const last = expected - 1;
  if (nextCp !== undefined) {
    return bad(
      last + 1,
      `the log ends at seq ${last} but a signed checkpoint covers seq ${nextCp.seq}: records were removed from the end`,
      last,
    );
  }
  const result: VerifyResult = {
    ok: true,
    records: last,
    checkpoints: cpIndex,
    signatures_verified: keys !== undefined,
  };
  if (last > 0) result.head = { seq: last, hash: prev };
  return result;
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
