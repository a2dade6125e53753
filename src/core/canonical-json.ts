import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted by code unit, no insignificant whitespace, `undefined`
 * members dropped (as JSON.stringify does). Two equal values always give the same bytes, which is
 * what the action digest and the audit hash chain rely on. Written without recursion, so that no
 * depth of nesting can exhaust the stack; a circular value is a TypeError, as in JSON.stringify.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  // The containers being written, to refuse a cycle instead of looping forever.
  const open = new Set<object>();
  const enter = (v: unknown): void => {
    if (v === null || typeof v !== 'object') {
      out.push(scalar(v));
      return;
    }
    if (v instanceof Date) {
      out.push(JSON.stringify(v.toISOString()));
      return;
    }
    if (open.has(v)) throw new TypeError('canonicalJson: the value is circular');
    open.add(v);
    if (Array.isArray(v)) {
      out.push('[');
      stack.push({ items: v, i: 0 });
    } else {
      out.push('{');
      const obj = v as Record<string, unknown>;
      stack.push({ obj, keys: Object.keys(obj).sort(), i: 0, first: true });
    }
  };
  enter(value);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if ('items' in f) {
      if (f.i >= f.items.length) {
        out.push(']');
        stack.pop();
        open.delete(f.items);
        continue;
      }
      if (f.i > 0) out.push(',');
      const v = f.items[f.i++];
      if (v === undefined || typeof v === 'function') out.push('null');
      else enter(v);
      continue;
    }
    let k: string | undefined;
    let v: unknown;
    while (f.i < f.keys.length) {
      const key = f.keys[f.i++]!;
      const candidate = f.obj[key];
      if (candidate === undefined || typeof candidate === 'function' || typeof candidate === 'symbol')
        continue;
      k = key;
      v = candidate;
      break;
    }
    if (k === undefined) {
      out.push('}');
      stack.pop();
      open.delete(f.obj);
      continue;
    }
    if (!f.first) out.push(',');
    f.first = false;
    out.push(JSON.stringify(k) + ':');
    enter(v);
  }
  return out.join('');
}

type Frame =
  | { items: unknown[]; i: number }
  | { obj: Record<string, unknown>; keys: string[]; i: number; first: boolean };

function scalar(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  return JSON.stringify(value) ?? 'null';
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash that chains audit record `record` to its predecessor. */
export function chainHash(prevHash: string, record: string): string {
  return createHash('sha256').update(prevHash).update(record).digest('hex');
}

export const GENESIS_HASH = '0'.repeat(64);
