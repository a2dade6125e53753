/**
 * `metadata.managedFields` in day2's terms: which field manager (argocd-controller, kubectl-edit,
 * helm, day2, ...) last set which field of an object, and when. The API server records it on
 * every write, so it says who changed a Deployment even when the change came from outside day2.
 */

/** One step of a field path: a field name, or the item of a keyed list (`containers[name=app]`). */
export type FieldPathSegment = string | { key: string; value: unknown };
export type FieldPath = FieldPathSegment[];

/** One manager's entry: what it owns, by which operation, as of when. */
export interface FieldOwner {
  manager: string;
  operation: string;
  /** When the manager last changed the object (RFC 3339), as the API server stamps it. */
  time?: string;
  subresource?: string;
  fields: FieldPath[];
}

/** The leaf paths a FieldsV1 tree names: `f:` fields, `k:` keyed items; `.`, `v:` and `i:` end a path. */
export function parseFieldsV1(tree: unknown, prefix: FieldPath = []): FieldPath[] {
  if (!isObject(tree)) return prefix.length ? [prefix] : [];
  const children = Object.entries(tree).filter(([k]) => k.startsWith('f:') || k.startsWith('k:'));
  if (children.length === 0) return prefix.length ? [prefix] : [];
  const out: FieldPath[] = [];
  for (const [k, v] of children) {
    const seg = segmentOf(k);
    if (seg !== undefined) out.push(...parseFieldsV1(v, [...prefix, seg]));
  }
  return out;
}

function segmentOf(k: string): FieldPathSegment | undefined {
  if (k.startsWith('f:')) return k.slice(2);
  try {
    const [entry] = Object.entries(JSON.parse(k.slice(2)) as Record<string, unknown>);
    return entry ? { key: entry[0], value: entry[1] } : undefined;
  } catch {
    return undefined;
  }
}

/** The managers of an object from its raw `metadata.managedFields`, newest change first. */
export function fieldOwners(managedFields: unknown): FieldOwner[] {
  if (!Array.isArray(managedFields)) return [];
  const out: FieldOwner[] = [];
  for (const m of managedFields as Record<string, unknown>[]) {
    if (!isObject(m) || typeof m.manager !== 'string') continue;
    const time =
      m.time instanceof Date ? m.time.toISOString() : typeof m.time === 'string' ? m.time : undefined;
    out.push({
      manager: m.manager,
      operation: typeof m.operation === 'string' ? m.operation : 'Update',
      ...(time ? { time } : {}),
      ...(typeof m.subresource === 'string' && m.subresource ? { subresource: m.subresource } : {}),
      fields: parseFieldsV1(m.fieldsV1),
    });
  }
  return out.sort((a, b) => (b.time ?? '').localeCompare(a.time ?? ''));
}

/** Whether `path` lies at or under `prefix`, comparing keyed items by key and value. */
export function pathStartsWith(path: FieldPath, prefix: FieldPath): boolean {
  if (prefix.length > path.length) return false;
  return prefix.every((p, i) => {
    const s = path[i]!;
    if (typeof p === 'string' || typeof s === 'string') return p === s;
    return p.key === s.key && String(p.value) === String(s.value);
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
