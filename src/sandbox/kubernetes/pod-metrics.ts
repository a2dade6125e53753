import type { ObjectStore } from './object-store.js';
import { findByKind } from './resources.js';
import type { KubeObject } from './types.js';

const POD = findByKind('v1', 'Pod')!;
const METRICS = findByKind('metrics.k8s.io/v1beta1', 'PodMetrics')!;
const DEPLOY = findByKind('apps/v1', 'Deployment')!;

/** Annotation on a Deployment giving its pods' usage in the sandbox: `cpu=250m,memory=300Mi`. */
export const USAGE_ANNOTATION = 'sandbox.day2.dev/usage';

/**
 * metrics.k8s.io PodMetrics for a namespace: seeded PodMetrics objects first; every running pod
 * without one gets usage from its deployment's usage annotation, else half its requests.
 */
export function podMetrics(store: ObjectStore, ns?: string): KubeObject[] {
  const seeded = store.list(METRICS, ns);
  const have = new Set(seeded.map((m) => `${m.metadata.namespace}/${m.metadata.name}`));
  const out = [...seeded];
  for (const pod of store.list(POD, ns)) {
    if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running') continue;
    if (have.has(`${pod.metadata.namespace}/${pod.metadata.name}`)) continue;
    const usage = deploymentUsage(store, pod);
    const containers = (
      (pod.spec as { containers?: { name: string; resources?: { requests?: Record<string, string> } }[] })
        .containers ?? []
    ).map((c) => ({
      name: c.name,
      usage: {
        cpu: usage?.cpu ?? half(c.resources?.requests?.cpu, 'cpu') ?? '5m',
        memory: usage?.memory ?? half(c.resources?.requests?.memory, 'memory') ?? '16Mi',
      },
    }));
    out.push({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'PodMetrics',
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        creationTimestamp: store.now(),
        labels: pod.metadata.labels ?? {},
      },
      timestamp: store.now(),
      window: '15s',
      containers,
    });
  }
  return out.sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
  );
}

function deploymentUsage(store: ObjectStore, pod: KubeObject): { cpu?: string; memory?: string } | undefined {
  const hash = pod.metadata.labels?.['pod-template-hash'];
  const rsName = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  if (!hash || !rsName) return undefined;
  const d = store.get(DEPLOY, pod.metadata.namespace, rsName.slice(0, -(hash.length + 1)));
  const text = d?.metadata.annotations?.[USAGE_ANNOTATION];
  if (!text) return undefined;
  return Object.fromEntries(text.split(',').map((kv) => kv.trim().split('=') as [string, string]));
}

function half(q: string | undefined, kind: 'cpu' | 'memory'): string | undefined {
  if (!q) return undefined;
  if (kind === 'cpu') {
    const milli = q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;
    return Number.isFinite(milli) ? `${Math.max(1, Math.round(milli / 2))}m` : undefined;
  }
  const m = q.match(/^(\d+)(Ki|Mi|Gi)?$/);
  if (!m) return undefined;
  const ki = Number(m[1]) * ({ Ki: 1, Mi: 1024, Gi: 1024 * 1024 }[m[2] ?? ''] ?? 1 / 1024);
  return `${Math.max(1, Math.round(ki / 2))}Ki`;
}
