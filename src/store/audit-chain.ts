import { canonicalJson, chainHash, GENESIS_HASH } from '../core/canonical-json.js';
import type { AuditInput, AuditRecord } from './store.js';

/** One audit event waiting to be sealed into the chain, with the time it happened. */
export interface PendingAudit {
  input: AuditInput;
  ts: string;
}

/**
 * Seals events onto the chain after `head`: assigns consecutive seqs, writes the canonical record
 * text (`{...input, seq, ts}`, so the store's seq and ts always win) and links each hash to the
 * previous one. Both stores call this inside the transaction that holds the chain's write lock.
 */
export function sealAudit(
  head: { seq: number; hash: string } | undefined,
  items: readonly PendingAudit[],
): AuditRecord[] {
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? GENESIS_HASH;
  const out: AuditRecord[] = [];
  for (const { input, ts } of items) {
    seq += 1;
    const record = canonicalJson({ ...input, seq, ts });
    const hash = chainHash(prev, record);
    out.push({ seq, ts, record, prev_hash: prev, hash });
    prev = hash;
  }
  return out;
}

/** Normalizes a caller's timestamp to the ISO-8601 UTC form that both stores compare as text. */
export function isoTime(value: string | Date): string {
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a timestamp: ${String(value)}`);
  return d.toISOString();
}
