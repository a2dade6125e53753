import { badRequest, KubeApiError } from './status.js';
import { clone, isObject } from './types.js';

/** RFC 7386 JSON merge patch: objects merge, null deletes, everything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The patch merge keys of the core types day2 patches (x-kubernetes-patch-merge-key): lists under
 * these field names merge item by item on the key instead of being replaced.
 */
const MERGE_KEYS: Record<string, (item: Record<string, unknown>) => string> = {
  containers: () => 'name',
  initContainers: () => 'name',
  ephemeralContainers: () => 'name',
  env: () => 'name',
  volumes: () => 'name',
  imagePullSecrets: () => 'name',
  volumeMounts: () => 'mountPath',
  volumeDevices: () => 'devicePath',
  conditions: () => 'type',
  hostAliases: () => 'ip',
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port'),
};

export function mergeKeyFor(field: string, item: unknown): string | undefined {
  const f = MERGE_KEYS[field];
  return f && isObject(item) ? f(item) : undefined;
}

/** Strategic merge patch for the fields day2 touches (containers/env/ports by key, maps merge). */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, unknown> = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v) && v.length > 0 && MERGE_KEYS[k] && v.every(isObject)) {
      out[k] = mergeList(k, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v);
      continue;
    }
    const merged = strategicMergePatch(out[k], v);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

function mergeList(field: string, current: unknown[], patch: Record<string, unknown>[]): unknown[] {
  const out = clone(current);
  for (const item of patch) {
    const key = mergeKeyFor(field, item)!;
    if (item.$patch === 'replace') return patch.filter((p) => p.$patch !== 'replace');
    const idx = out.findIndex((c) => isObject(c) && c[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
    else out.push(strategicMergePatch({}, item));
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/'))
    throw badRequest(
      `the server rejected our request due to an error in our request: invalid JSON pointer "${path}"`,
    );
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, segs: string[], path: string): { parent: unknown; last: string } {
  let cur = doc;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s];
    else cur = undefined;
    if (cur === undefined) throw invalidPatch(`doc is missing path: "${path}": missing value`);
  }
  return { parent: cur, last: segs[segs.length - 1] ?? '' };
}

function invalidPatch(message: string): KubeApiError {
  return new KubeApiError(
    422,
    'Invalid',
    `the server rejected our request due to an error in our request: ${message}`,
  );
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const s of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(s)] : isObject(cur) ? cur[s] : undefined;
    if (cur === undefined) throw invalidPatch(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test). */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw badRequest(
      'the server rejected our request due to an error in our request: json patch must be an array of operations',
    );
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    const segs = pointer(raw.path);
    if (segs.length === 0) {
      if (raw.op === 'replace' || raw.op === 'add') {
        doc = clone(raw.value);
        continue;
      }
    }
    switch (raw.op) {
      case 'add':
      case 'replace': {
        const { parent, last } = parentOf(doc, segs, raw.path);
        if (Array.isArray(parent)) {
          const i = last === '-' ? parent.length : Number(last);
          if (raw.op === 'add') parent.splice(i, 0, clone(raw.value));
          else parent[i] = clone(raw.value);
        } else if (isObject(parent)) {
          if (raw.op === 'replace' && !(last in parent))
            throw invalidPatch(
              `replace operation does not apply: doc is missing key: ${raw.path}: missing value`,
            );
          parent[last] = clone(raw.value);
        } else throw invalidPatch(`doc is missing path: "${raw.path}": missing value`);
        break;
      }
      case 'remove': {
        const { parent, last } = parentOf(doc, segs, raw.path);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else if (isObject(parent) && last in parent) delete parent[last];
        else
          throw invalidPatch(
            `remove operation does not apply: doc is missing path: "${raw.path}": missing value`,
          );
        break;
      }
      case 'move':
      case 'copy': {
        const value = clone(getAt(doc, raw.from ?? ''));
        if (raw.op === 'move') doc = jsonPatch(doc, [{ op: 'remove', path: raw.from ?? '' }]);
        doc = jsonPatch(doc, [{ op: 'add', path: raw.path, value }]);
        break;
      }
      case 'test': {
        const actual = getAt(doc, raw.path);
        if (JSON.stringify(actual) !== JSON.stringify(raw.value))
          throw invalidPatch(`testing value ${raw.path} failed: test failed`);
        break;
      }
      default:
        throw badRequest(
          `the server rejected our request due to an error in our request: Unexpected kind: ${raw.op}`,
        );
    }
  }
  return doc;
}
