import { cpuMillicores, memoryBytes } from '../../providers/kubernetes/quantity.js';
import type { ObjectStore } from './object-store.js';
import { findByKind } from './resources.js';
import type { KubeObject } from './types.js';

const POD = findByKind('v1', 'Pod')!;
const METRICS = findByKind('metrics.k8s.io/v1beta1', 'PodMetrics')!;
const DEPLOY = findByKind('apps/v1', 'Deployment')!;

/** Annotation on a Deployment giving its pods' usage in the sandbox: `cpu=250m,memory=300Mi`. */
export const USAGE_ANNOTATION = 'sandbox.day2.dev/usage';

/**
 * Annotation on a Deployment giving the load on the whole Deployment: `cpu=3600m,memory=2Gi`, split
 * evenly over its Ready pods (so more replicas each use less, as behind a Service). It
 * wins over seeded PodMetrics and USAGE_ANNOTATION: a test or a demo raises load with it and
 * watches the HPA controller scale out.
 */
export const LOAD_ANNOTATION = 'sandbox.day2.dev/load';

/**
 * metrics.k8s.io PodMetrics for a namespace: pods of a Deployment with a load annotation get their
 * share of it; then seeded PodMetrics objects; every other running pod gets usage from its
 * deployment's usage annotation, else half its requests.
 */
export function podMetrics(store: ObjectStore, ns?: string): KubeObject[] {
  const running = store
    .list(POD, ns)
    .filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running');
  const loads = new Map<string, { load: Record<string, string>; pods: number }>();
  // A Service sends traffic only to Ready pods: they share the load, a pod still starting takes none.
  for (const pod of running.filter(isReady)) {
    const d = deploymentOf(store, pod);
    const text = d?.metadata.annotations?.[LOAD_ANNOTATION];
    if (!d || !text) continue;
    const key = `${d.metadata.namespace}/${d.metadata.name}`;
    const entry = loads.get(key) ?? { load: parseUsage(text), pods: 0 };
    entry.pods++;
    loads.set(key, entry);
  }
  const loaded = (pod: KubeObject) => {
    const d = deploymentOf(store, pod);
    return d ? loads.get(`${d.metadata.namespace}/${d.metadata.name}`) : undefined;
  };
  const seeded = store.list(METRICS, ns).filter((m) => {
    const pod = running.find(
      (p) => p.metadata.namespace === m.metadata.namespace && p.metadata.name === m.metadata.name,
    );
    return !pod || !loaded(pod);
  });
  const have = new Set(seeded.map((m) => `${m.metadata.namespace}/${m.metadata.name}`));
  const out = [...seeded];
  for (const pod of running) {
    if (have.has(`${pod.metadata.namespace}/${pod.metadata.name}`)) continue;
    const share = loaded(pod);
    const usage = share
      ? isReady(pod)
        ? splitLoad(share.load, share.pods)
        : { cpu: '1m', memory: undefined }
      : deploymentUsage(store, pod);
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

function isReady(pod: KubeObject): boolean {
  return (
    (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
  ).some((c) => c.type === 'Ready' && c.status === 'True');
}

function deploymentOf(store: ObjectStore, pod: KubeObject): KubeObject | undefined {
  const hash = pod.metadata.labels?.['pod-template-hash'];
  const rsName = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  if (!hash || !rsName) return undefined;
  return store.get(DEPLOY, pod.metadata.namespace, rsName.slice(0, -(hash.length + 1)));
}

function deploymentUsage(store: ObjectStore, pod: KubeObject): { cpu?: string; memory?: string } | undefined {
  const text = deploymentOf(store, pod)?.metadata.annotations?.[USAGE_ANNOTATION];
  return text ? parseUsage(text) : undefined;
}

function parseUsage(text: string): Record<string, string> {
  return Object.fromEntries(text.split(',').map((kv) => kv.trim().split('=') as [string, string]));
}

/** One pod's share of a Deployment's load: CPU in millicores, memory in Ki, rounded up. */
function splitLoad(load: Record<string, string>, pods: number): { cpu?: string; memory?: string } {
  const cpu = load.cpu ? cpuMillicores(load.cpu) : undefined;
  const memory = load.memory ? memoryBytes(load.memory) : undefined;
  return {
    cpu: cpu !== undefined ? `${Math.ceil(cpu / pods)}m` : undefined,
    memory: memory !== undefined ? `${Math.ceil(memory / 1024 / pods)}Ki` : undefined,
  };
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
