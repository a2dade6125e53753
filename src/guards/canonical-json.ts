import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted by code unit, no insignificant whitespace, `undefined`
 * members dropped (as JSON.stringify does). Two equal values always give the same bytes, which is
 * what the action digest and the audit hash chain rely on.
 */
export function canonicalJson(value: unknown): string {
  return write(value);
}

function write(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return (
      '[' + value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : write(v))).join(',') + ']'
    );
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + write(v);
  }
  return out + '}';
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash that chains audit record `record` to its predecessor. */
export function chainHash(prevHash: string, record: string): string {
  return createHash('sha256').update(prevHash).update(record).digest('hex');
}

export const GENESIS_HASH = '0'.repeat(64);
