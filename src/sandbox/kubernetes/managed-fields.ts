import { parseFieldsV1 } from '../../providers/kubernetes/managed-fields.js';
import { mergeKeyFor, strategicMergePatch } from './patch.js';
import { KubeApiError } from './status.js';
import { clone, isObject, type KubeObject } from './types.js';

/** A path segment: a field name, or the key of an item in a keyed list. */
type Segment = string | { key: string; value: unknown };

interface Entry {
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  paths: Map<string, Segment[]>;
}

const pathKey = (p: Segment[]): string => JSON.stringify(p);

/** Leaf field paths of an object, as server-side apply tracks ownership (status and identity excluded). */
export function leafPaths(obj: unknown): Map<string, Segment[]> {
  const out = new Map<string, Segment[]>();
  const walk = (v: unknown, path: Segment[], field: string) => {
    if (isObject(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k], k);
      return;
    }
    if (Array.isArray(v) && v.length > 0 && v.every((i) => mergeKeyFor(field, i) !== undefined)) {
      for (const item of v as Record<string, unknown>[]) {
        const key = mergeKeyFor(field, item)!;
        walk(item, [...path, { key, value: item[key] }], '');
      }
      return;
    }
    out.set(pathKey(path), path);
  };
  if (!isObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata') {
      if (isObject(v))
        for (const mk of ['labels', 'annotations'] as const)
          if (v[mk] !== undefined) walk(v[mk], ['metadata', mk], mk);
      continue;
    }
    walk(v, [k], k);
  }
  return out;
}

export function valueAt(obj: unknown, path: Segment[]): unknown {
  let cur = obj;
  for (const s of path) {
    if (typeof s === 'string') cur = isObject(cur) ? cur[s] : undefined;
    else cur = Array.isArray(cur) ? cur.find((i) => isObject(i) && i[s.key] === s.value) : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function deleteAt(obj: unknown, path: Segment[]): void {
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (typeof last === 'string' && isObject(parent)) delete parent[last];
  else if (typeof last !== 'string' && Array.isArray(parent)) {
    const i = parent.findIndex((x) => isObject(x) && x[last.key] === last.value);
    if (i >= 0) parent.splice(i, 1);
  }
}

export function formatPath(path: Segment[]): string {
  return path
    .map((s) => (typeof s === 'string' ? `.${s}` : `[${s.key}=${JSON.stringify(s.value)}]`))
    .join('');
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Field ownership of one object, rendered into metadata.managedFields (FieldsV1). */
export class FieldManagers {
  private readonly entries = new Map<string, Entry>();

  /** Records an Update by `manager`: it takes every leaf that it added or changed. */
  recordUpdate(manager: string, apiVersion: string, time: string, before: unknown, after: unknown): void {
    const prev = leafPaths(before);
    const next = leafPaths(after);
    for (const k of prev.keys()) if (!next.has(k)) for (const e of this.entries.values()) e.paths.delete(k);
    const changed: [string, Segment[]][] = [];
    for (const [k, p] of next)
      if (!prev.has(k) || !same(valueAt(before, p), valueAt(after, p))) changed.push([k, p]);
    if (changed.length === 0 && this.entries.size > 0) return;
    const entry = this.ensure(`${manager}\u0000Update`, 'Update', apiVersion, time);
    for (const [k, p] of changed.length ? changed : [...next]) {
      for (const e of this.entries.values()) if (e !== entry) e.paths.delete(k);
      entry.paths.set(k, p);
    }
    this.prune();
  }

  /**
   * Server-side apply: merges `applied` into `live`, drops fields this manager applied before and
   * no longer names, and refuses (409) to take fields another manager set to a different value
   * unless `force`.
   */
  apply(
    manager: string,
    apiVersion: string,
    time: string,
    live: KubeObject | undefined,
    applied: KubeObject,
    force: boolean,
    details: { name: string; group?: string; kind: string },
  ): KubeObject {
    const appliedPaths = leafPaths(applied);
    const conflicts: { manager: string; path: string }[] = [];
    for (const [k, p] of appliedPaths) {
      for (const [id, e] of this.entries) {
        const [owner] = id.split('\u0000');
        if (owner === manager || !e.paths.has(k)) continue;
        if (!same(valueAt(live, p), valueAt(applied, p)))
          conflicts.push({ manager: owner!, path: formatPath(p) });
      }
    }
    if (conflicts.length > 0 && !force) {
      const lines = conflicts.map((c) => `conflict with "${c.manager}": ${c.path}`);
      const message =
        conflicts.length === 1
          ? `Apply failed with 1 conflict: ${lines[0]}`
          : `Apply failed with ${conflicts.length} conflicts: ${lines.join(', ')}`;
      throw new KubeApiError(409, 'Conflict', message, {
        causes: conflicts.map((c) => ({
          reason: 'FieldManagerConflict',
          message: `conflict with "${c.manager}"`,
          field: c.path,
        })),
        ...details,
      });
    }
    const entry = this.ensure(`${manager}\u0000Apply`, 'Apply', apiVersion, time);
    const result = (live ? strategicMergePatch(live, applied) : clone(applied)) as KubeObject;
    for (const [k, p] of entry.paths) {
      if (appliedPaths.has(k)) continue;
      const ownedElsewhere = [...this.entries.values()].some((e) => e !== entry && e.paths.has(k));
      if (!ownedElsewhere) deleteAt(result, p);
    }
    entry.paths = new Map(appliedPaths);
    entry.time = time;
    for (const [k] of appliedPaths) {
      for (const e of this.entries.values()) {
        if (e === entry || !e.paths.has(k)) continue;
        const p = appliedPaths.get(k)!;
        if (force || !same(valueAt(live, p), valueAt(applied, p))) e.paths.delete(k);
      }
    }
    this.prune();
    return result;
  }

  /**
   * Takes over ownership as an object's `metadata.managedFields` describes it (FieldsV1), so that
   * objects seeded from a real cluster's export keep who set what, and when.
   */
  load(managedFields: unknown): void {
    if (!Array.isArray(managedFields)) return;
    for (const m of managedFields) {
      if (!isObject(m) || typeof m.manager !== 'string' || !isObject(m.fieldsV1)) continue;
      const operation = m.operation === 'Apply' ? 'Apply' : 'Update';
      const entry = this.ensure(
        `${m.manager}\u0000${operation}`,
        operation,
        typeof m.apiVersion === 'string' ? m.apiVersion : 'v1',
        typeof m.time === 'string' ? m.time : new Date(0).toISOString(),
      );
      for (const p of parseFieldsV1(m.fieldsV1)) entry.paths.set(pathKey(p), p);
    }
    this.prune();
  }

  /** A deep copy (dry-run applies work on one so that they record nothing). */
  copy(): FieldManagers {
    const c = new FieldManagers();
    for (const [id, e] of this.entries) c.entries.set(id, { ...e, paths: new Map(e.paths) });
    return c;
  }

  render(): Record<string, unknown>[] {
    return [...this.entries].map(([id, e]) => ({
      manager: id.split('\u0000')[0],
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1([...e.paths.values()]),
    }));
  }

  private ensure(id: string, operation: 'Apply' | 'Update', apiVersion: string, time: string): Entry {
    let e = this.entries.get(id);
    if (!e) {
      e = { operation, apiVersion, time, paths: new Map() };
      this.entries.set(id, e);
    }
    e.time = time;
    e.apiVersion = apiVersion;
    return e;
  }

  private prune(): void {
    for (const [id, e] of this.entries) if (e.paths.size === 0) this.entries.delete(id);
  }
}

function toFieldsV1(paths: Segment[][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of paths) {
    let node = root;
    for (const s of p) {
      const k = typeof s === 'string' ? `f:${s}` : `k:${JSON.stringify({ [s.key]: s.value })}`;
      const next = (node[k] ??= typeof s === 'string' ? {} : { '.': {} }) as Record<string, unknown>;
      node = next;
    }
  }
  return root;
}
