import { canonicalQuantity } from './quantity.js';
import { ACTION_DIGEST, APPROVAL_ID, CHANGE_CAUSE } from '../../context/changes/cause.js';

/** How a path differs, from the live object's point of view against the desired one. */
export type DriftOp = 'added' | 'removed' | 'changed';

/** One path that differs: `added` exists only live, `removed` only in the desired manifest. */
export interface DriftChange {
  path: string;
  op: DriftOp;
  desired?: unknown;
  live?: unknown;
}

type Obj = Record<string, unknown>;
type Seg = string | { key: string; value: unknown };

/** Top-level and metadata fields the API server owns; never compared. */
const SERVER_OWNED_TOP = new Set(['status']);
const SERVER_OWNED_META = new Set([
  'managedFields',
  'resourceVersion',
  'uid',
  'generation',
  'creationTimestamp',
  'selfLink',
  'ownerReferences',
  'finalizers',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);
const SERVER_OWNED_ANNOTATIONS = new Set([
  'deployment.kubernetes.io/revision',
  'kubectl.kubernetes.io/last-applied-configuration',
  'kubectl.kubernetes.io/restartedAt',
  // The record of why the last rollout happened, which day2 and CD tools write: history, not configuration.
  CHANGE_CAUSE,
  APPROVAL_ID,
  ACTION_DIGEST,
]);

/** Fields whose objects are maps of user keys: extra live keys there are real drift. */
const MAP_FIELDS = new Set([
  'labels',
  'annotations',
  'matchLabels',
  'nodeSelector',
  'data',
  'stringData',
  'requests',
  'limits',
  'hard',
  'selector',
]);

/** Keys of keyed lists, by list field name (the strategic-merge keys of the kinds day2 compares). */
const LIST_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  tolerations: 'key',
  metrics: 'type',
};

/**
 * Values the API server fills in when a manifest leaves them out. A desired field that sets the
 * default and a live object without it are in sync.
 */
function defaultFor(field: string, path: readonly Seg[], parent: Obj | undefined): unknown {
  switch (field) {
    case 'protocol':
      return 'TCP';
    case 'terminationMessagePath':
      return '/dev/termination-log';
    case 'terminationMessagePolicy':
      return 'File';
    case 'restartPolicy':
      return 'Always';
    case 'dnsPolicy':
      return 'ClusterFirst';
    case 'schedulerName':
      return 'default-scheduler';
    case 'terminationGracePeriodSeconds':
      return 30;
    case 'revisionHistoryLimit':
      return 10;
    case 'progressDeadlineSeconds':
      return 600;
    case 'sessionAffinity':
      return 'None';
    case 'minReplicas':
      return 1;
    case 'replicas':
      return path.length === 2 ? 1 : undefined;
    case 'imagePullPolicy': {
      const image = typeof parent?.image === 'string' ? parent.image : '';
      const last = image.split('/').pop() ?? '';
      return image.endsWith(':latest') || (!last.includes(':') && !image.includes('@'))
        ? 'Always'
        : 'IfNotPresent';
    }
    default:
      return undefined;
  }
}

/**
 * Compares a desired manifest with the live object, field by field, over the paths the manifest
 * sets (so server defaults and server-owned fields never count as drift). Keyed lists (containers,
 * env, volumes, ports, ...) are matched by key; quantities are compared numerically.
 */
export function diffObject(desired: Obj, live: Obj): DriftChange[] {
  const out: DriftChange[] = [];
  const kind = typeof desired.kind === 'string' ? desired.kind : '';
  for (const [k, v] of Object.entries(desired)) {
    if (k === 'apiVersion' || k === 'kind' || SERVER_OWNED_TOP.has(k)) continue;
    if (k === 'metadata') {
      diffMetadata(v, live.metadata, out);
      continue;
    }
    walk(v, live[k], [k], k, undefined, out, kind);
  }
  return out;
}

function diffMetadata(desired: unknown, live: unknown, out: DriftChange[]): void {
  if (!isObj(desired)) return;
  const l = isObj(live) ? live : {};
  for (const [k, v] of Object.entries(desired)) {
    if (SERVER_OWNED_META.has(k) || k === 'name' || k === 'namespace') continue;
    if (k === 'annotations' && isObj(v)) {
      const keep = (o: unknown) =>
        isObj(o)
          ? Object.fromEntries(Object.entries(o).filter(([a]) => !SERVER_OWNED_ANNOTATIONS.has(a)))
          : o;
      walk(keep(v), keep(l.annotations), ['metadata', 'annotations'], 'annotations', undefined, out, '');
      continue;
    }
    walk(v, l[k], ['metadata', k], k, undefined, out, '');
  }
}

function walk(
  d: unknown,
  l: unknown,
  path: Seg[],
  field: string,
  parent: Obj | undefined,
  out: DriftChange[],
  kind: string,
): void {
  if (isObj(d)) {
    if (l === undefined || l === null) {
      if (!isEmptyDeep(d)) out.push({ path: formatPath(path), op: 'removed', desired: d });
      return;
    }
    if (!isObj(l)) {
      out.push({ path: formatPath(path), op: 'changed', desired: d, live: l });
      return;
    }
    for (const [k, v] of Object.entries(d)) walk(v, l[k], [...path, k], k, d, out, kind);
    if (MAP_FIELDS.has(field)) {
      for (const [k, v] of Object.entries(l))
        if (!(k in d)) out.push({ path: formatPath([...path, k]), op: 'added', live: v });
    }
    return;
  }
  if (Array.isArray(d)) {
    const key = listKey(field, d, path);
    if (key && (Array.isArray(l) || l === undefined || l === null)) {
      const liveItems = Array.isArray(l) ? (l as unknown[]) : [];
      const seen = new Set<string>();
      for (const item of d) {
        if (!isObj(item)) continue;
        const kv = item[key];
        seen.add(String(kv));
        const match = liveItems.find((x) => isObj(x) && String(x[key]) === String(kv));
        const seg = { key, value: kv };
        if (match === undefined) out.push({ path: formatPath([...path, seg]), op: 'removed', desired: item });
        else walk(item, match, [...path, seg], '', item, out, kind);
      }
      for (const item of liveItems) {
        if (isObj(item) && !seen.has(String(item[key])))
          out.push({ path: formatPath([...path, { key, value: item[key] }]), op: 'added', live: item });
      }
      return;
    }
    if (!equalValue(d, l, path))
      out.push({ path: formatPath(path), op: l === undefined ? 'removed' : 'changed', desired: d, live: l });
    return;
  }
  // A scalar the manifest sets.
  if (l === undefined || l === null) {
    const def = defaultFor(field, path, parent);
    if (def !== undefined && equalScalar(d, def, path)) return;
    if (d === null) return;
    out.push({ path: formatPath(path), op: 'removed', desired: d });
    return;
  }
  if (!equalScalar(d, l, path)) out.push({ path: formatPath(path), op: 'changed', desired: d, live: l });
}

function listKey(field: string, items: unknown[], path: readonly Seg[]): string | undefined {
  if (items.length === 0 || !items.every(isObj)) return undefined;
  if (field === 'ports') {
    // Container ports are keyed by containerPort, Service ports by port.
    const objs = items;
    if (objs.every((p) => 'containerPort' in p)) return 'containerPort';
    if (objs.every((p) => 'port' in p)) return 'port';
    return undefined;
  }
  const key = LIST_KEYS[field];
  if (key && items.every((i) => key in i)) return key;
  if (path.length > 0 && items.every((i) => typeof i.name === 'string')) return 'name';
  return undefined;
}

function isQuantityPath(path: readonly Seg[]): boolean {
  const parent = path[path.length - 2];
  return parent === 'requests' || parent === 'limits' || parent === 'hard' || parent === 'capacity';
}

function equalScalar(a: unknown, b: unknown, path: readonly Seg[]): boolean {
  if (a === b) return true;
  if (isQuantityPath(path)) {
    const qa = canonicalQuantity(a);
    return qa !== undefined && qa === canonicalQuantity(b);
  }
  return false;
}

function equalValue(a: unknown, b: unknown, path: readonly Seg[]): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => equalValue(x, b[i], path));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => equalValue(a[k], b[k], [...path, k]));
  }
  return equalScalar(a, b, path);
}

function isEmptyDeep(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObj(v)) return Object.values(v).every(isEmptyDeep);
  return false;
}

/** `spec.template.spec.containers[name=orders].env[name=LOG_LEVEL].value`; odd keys are quoted. */
export function formatPath(path: readonly Seg[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'string')
      s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg) ? (s ? `.${seg}` : seg) : `[${JSON.stringify(seg)}]`;
    else s += `[${seg.key}=${String(seg.value)}]`;
  }
  return s;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
