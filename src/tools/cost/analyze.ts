import type { DeploymentInfo, KubeResource, PodUsage } from '../../providers/kubernetes/types.js';
import { percentile } from './percentile.js';
import { money, monthlyCompute, HOURS_PER_MONTH, type Prices } from './prices.js';
import { cpuMillicores, formatCpu, formatMemory, memoryBytes } from '../../providers/kubernetes/quantity.js';
import type { EnvSnapshot, NamespaceSnapshot } from './snapshot.js';

/** How usage is summarised; reported with every answer so a reader knows what the numbers mean. */
export const P95_BASIS =
  "p95 per pod by nearest rank over every (pod, snapshot) usage sample metrics.k8s.io returned: each sample is one pod's usage summed over its containers at one snapshot. metrics.k8s.io is point-in-time, so this is the spread across pods and snapshots, not a p95 over days; raise cost.samples and cost.window for more history.";

/** Headroom over p95 that suggested requests keep. */
export const HEADROOM = 1.3;
const MIN_CPU_M = 10;
const MIN_MEMORY = 32 * 1024 ** 2;
const CPU_STEP_M = 10;
const MEMORY_STEP = 16 * 1024 ** 2;

export interface Owner {
  service: string;
  owner?: string;
}

export interface IdleFinding extends Owner {
  env: string;
  namespace: string;
  deployment: string;
  replicas: number;
  p95_cpu_m: number;
  p95_memory_mib: number;
  requests: { cpu: string; memory: string };
  pods_sampled: number;
  monthly_cost: number;
  monthly_savings: number;
  resource_version: string;
}

export interface RightsizeFinding extends Owner {
  env: string;
  namespace: string;
  deployment: string;
  replicas: number;
  requests: { cpu: string; memory: string };
  p95: { cpu: string; memory: string };
  suggested: { cpu: string; memory: string };
  cpu_request_vs_p95: number;
  monthly_cost: number;
  monthly_savings: number;
  /** The set_resources call that applies the suggestion, where the pod has one container to set. */
  fix?: { tool: 'set_resources'; arguments: Record<string, unknown> };
}

export interface OrphanFinding {
  env: string;
  kind: 'PersistentVolumeClaim' | 'Service' | 'Secret' | 'ConfigMap';
  namespace: string;
  name: string;
  why: string;
  monthly_cost: number;
  owner?: string;
}

export interface CostAnalysis {
  idle: IdleFinding[];
  rightsizing: RightsizeFinding[];
  orphans: OrphanFinding[];
  /** Deployments with replicas but no usage samples (metrics missing). */
  no_metrics: string[];
}

export interface AnalyzeOptions {
  prices: Prices;
  idleCpuMillicores: number;
  ownerOf(env: string, d: DeploymentInfo): Owner;
  /** Owner of a namespace's loose objects (orphans), when known. */
  namespaceOwner?(env: string, namespace: string): string | undefined;
}

/** Finds idle workloads, over-requested workloads and orphaned objects in a snapshot. Pure. */
export function analyzeCost(snap: EnvSnapshot, opts: AnalyzeOptions): CostAnalysis {
  const out: CostAnalysis = { idle: [], rightsizing: [], orphans: [], no_metrics: [] };
  for (const ns of snap.namespaces) {
    analyzeWorkloads(snap.env, ns, opts, out);
    if (ns.rawDeployments) findOrphans(snap.env, ns, opts, out.orphans);
  }
  out.idle.sort((a, b) => b.monthly_savings - a.monthly_savings || a.deployment.localeCompare(b.deployment));
  out.rightsizing.sort(
    (a, b) => b.monthly_savings - a.monthly_savings || a.deployment.localeCompare(b.deployment),
  );
  out.orphans.sort(
    (a, b) => b.monthly_cost - a.monthly_cost || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
  );
  return out;
}

function analyzeWorkloads(env: string, ns: NamespaceSnapshot, opts: AnalyzeOptions, out: CostAnalysis): void {
  const selectors = new Map(ns.deployments.map((d) => [d, equalityTerms(d.selector)]));
  const index = podIndex(
    ns.usage,
    new Set([...selectors.values()].map((t) => t[0]?.[0]).filter((k): k is string => k !== undefined)),
  );
  for (const d of ns.deployments) {
    if (d.replicas <= 0) continue;
    const reqCpu = sum(d.resources.map((r) => cpuMillicores(r.requests.cpu)));
    const reqMem = sum(d.resources.map((r) => memoryBytes(r.requests.memory)));
    const pods = matchPods(index, selectors.get(d)!);
    if (pods.length === 0) {
      out.no_metrics.push(`${ns.namespace}/${d.name}`);
      continue;
    }
    const cpu = pods.map((p) => sum(p.containers.map((c) => c.cpuMillicores)));
    const mem = pods.map((p) => sum(p.containers.map((c) => c.memoryBytes)));
    const p95Cpu = percentile(cpu, 95);
    const p95Mem = percentile(mem, 95);
    const cost = monthlyCompute(opts.prices, reqCpu * d.replicas, reqMem * d.replicas);
    const who = opts.ownerOf(env, d);
    const requests = { cpu: formatCpu(reqCpu), memory: formatMemory(reqMem) };
    if (p95Cpu < opts.idleCpuMillicores) {
      out.idle.push({
        ...who,
        env,
        namespace: ns.namespace,
        deployment: d.name,
        replicas: d.replicas,
        p95_cpu_m: round1(p95Cpu),
        p95_memory_mib: Math.round(p95Mem / 1024 ** 2),
        requests,
        pods_sampled: cpu.length,
        monthly_cost: money(cost),
        monthly_savings: money(cost),
        resource_version: d.resourceVersion,
      });
      continue;
    }
    const sugCpu = Math.max(MIN_CPU_M, Math.ceil((p95Cpu * HEADROOM) / CPU_STEP_M) * CPU_STEP_M);
    const sugMem = Math.max(MIN_MEMORY, Math.ceil((p95Mem * HEADROOM) / MEMORY_STEP) * MEMORY_STEP);
    const overCpu = reqCpu - sugCpu >= 100 && reqCpu >= 1.5 * sugCpu;
    const overMem = reqMem - sugMem >= 256 * 1024 ** 2 && reqMem >= 1.5 * sugMem;
    if (!overCpu && !overMem) continue;
    const newCpu = overCpu ? sugCpu : reqCpu;
    const newMem = overMem ? sugMem : reqMem;
    const savings = cost - monthlyCompute(opts.prices, newCpu * d.replicas, newMem * d.replicas);
    out.rightsizing.push({
      ...who,
      env,
      namespace: ns.namespace,
      deployment: d.name,
      replicas: d.replicas,
      requests,
      p95: { cpu: formatCpu(p95Cpu), memory: formatMemory(p95Mem) },
      suggested: { cpu: formatCpu(newCpu), memory: formatMemory(newMem) },
      cpu_request_vs_p95: round1(reqCpu / Math.max(p95Cpu, 1)),
      monthly_cost: money(cost),
      monthly_savings: money(savings),
      ...(d.resources.length === 1
        ? {
            fix: {
              tool: 'set_resources' as const,
              arguments: {
                env,
                namespace: ns.namespace,
                deployment: d.name,
                requests: { cpu: formatCpu(newCpu), memory: formatMemory(newMem) },
                reason: `rightsizing: p95 ${formatCpu(p95Cpu)} CPU / ${formatMemory(p95Mem)} + 30 %`,
              },
            },
          }
        : {}),
    });
  }
}

type PodIndex = { all: PodUsage[]; byLabel: Map<string, PodUsage[]> };

/** Pods of every snapshot, indexed by the label keys selectors start with, so matching is not O(pods). */
function podIndex(samples: PodUsage[][], keys: Set<string>): PodIndex {
  const all = samples.flat();
  const byLabel = new Map<string, PodUsage[]>();
  for (const p of all) {
    for (const k of keys) {
      const v = p.labels[k];
      if (v === undefined) continue;
      const key = `${k}=${v}`;
      const list = byLabel.get(key);
      if (list) list.push(p);
      else byLabel.set(key, [p]);
    }
  }
  return { all, byLabel };
}

/** The equality terms of a selector (`a=b,c=d`); set-based terms are ignored (matches more, never fewer). */
function equalityTerms(selector: string): [string, string][] {
  return selector
    .split(',')
    .map((t) => t.trim())
    .filter((t) => /^[^=!\s(]+=[^=]*$/.test(t))
    .map((t) => t.split('=') as [string, string]);
}

function matchPods(index: PodIndex, terms: [string, string][]): PodUsage[] {
  if (terms.length === 0) return [];
  const [k0, v0] = terms[0]!;
  const first = index.byLabel.get(`${k0}=${v0}`) ?? [];
  return terms.length === 1 ? first : first.filter((p) => terms.every(([k, v]) => p.labels[k] === v));
}

/** Names a pod template refers to: claims, secrets, config maps. */
interface References {
  claims: Set<string>;
  secrets: Set<string>;
  configMaps: Set<string>;
}

function templateReferences(raw: KubeResource[]): References {
  const refs: References = { claims: new Set(), secrets: new Set(), configMaps: new Set() };
  for (const d of raw) {
    const spec = ((d.spec as Obj | undefined)?.template as Obj | undefined)?.spec as Obj | undefined;
    if (!spec) continue;
    for (const v of arr(spec.volumes)) {
      const claim = (v.persistentVolumeClaim as Obj | undefined)?.claimName;
      if (typeof claim === 'string') refs.claims.add(claim);
      const secret = (v.secret as Obj | undefined)?.secretName;
      if (typeof secret === 'string') refs.secrets.add(secret);
      const cm = (v.configMap as Obj | undefined)?.name;
      if (typeof cm === 'string') refs.configMaps.add(cm);
      for (const src of arr((v.projected as Obj | undefined)?.sources)) {
        const s = (src.secret as Obj | undefined)?.name;
        if (typeof s === 'string') refs.secrets.add(s);
        const c = (src.configMap as Obj | undefined)?.name;
        if (typeof c === 'string') refs.configMaps.add(c);
      }
    }
    for (const s of arr(spec.imagePullSecrets)) if (typeof s.name === 'string') refs.secrets.add(s.name);
    for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
      for (const e of arr(c.env)) {
        const from = e.valueFrom as Obj | undefined;
        const s = (from?.secretKeyRef as Obj | undefined)?.name;
        if (typeof s === 'string') refs.secrets.add(s);
        const cm = (from?.configMapKeyRef as Obj | undefined)?.name;
        if (typeof cm === 'string') refs.configMaps.add(cm);
      }
      for (const e of arr(c.envFrom)) {
        const s = (e.secretRef as Obj | undefined)?.name;
        if (typeof s === 'string') refs.secrets.add(s);
        const cm = (e.configMapRef as Obj | undefined)?.name;
        if (typeof cm === 'string') refs.configMaps.add(cm);
      }
    }
  }
  return refs;
}

const SYSTEM_SECRET_TYPES = new Set(['kubernetes.io/service-account-token', 'bootstrap.kubernetes.io/token']);
const SYSTEM_CONFIGMAPS = new Set(['kube-root-ca.crt']);
const GIB = 1024 ** 3;

function findOrphans(env: string, ns: NamespaceSnapshot, opts: AnalyzeOptions, out: OrphanFinding[]): void {
  const refs = templateReferences(ns.rawDeployments ?? []);
  const owner = opts.namespaceOwner?.(env, ns.namespace);
  const base = { env, namespace: ns.namespace, ...(owner ? { owner } : {}) };
  for (const pvc of ns.pvcs ?? []) {
    const gib = memoryBytes(pvc.capacity ?? pvc.requested) / GIB;
    if (pvc.phase !== 'Bound')
      out.push({
        ...base,
        kind: 'PersistentVolumeClaim',
        name: pvc.name,
        why: `unbound (${pvc.phase}): no volume behind it; asks for ${pvc.requested ?? '?'}`,
        monthly_cost: 0,
      });
    else if (!refs.claims.has(pvc.name))
      out.push({
        ...base,
        kind: 'PersistentVolumeClaim',
        name: pvc.name,
        why: `bound (${pvc.capacity ?? pvc.requested ?? '?'}) but mounted by no Deployment`,
        monthly_cost: money(gib * opts.prices.storage_gib_month),
      });
  }
  const endpoints = new Map((ns.endpoints ?? []).map((e) => [e.name, e]));
  for (const s of ns.services ?? []) {
    if (Object.keys(s.selector).length === 0 || s.type === 'ExternalName') continue;
    const e = endpoints.get(s.name);
    if (e && e.readyAddresses + e.notReadyAddresses > 0) continue;
    const lb = s.type === 'LoadBalancer' ? opts.prices.load_balancer_hour * HOURS_PER_MONTH : 0;
    out.push({
      ...base,
      kind: 'Service',
      name: s.name,
      why: `${s.type} Service whose selector matches no pod (no endpoints)`,
      monthly_cost: money(lb),
    });
  }
  for (const s of ns.secrets ?? []) {
    if (SYSTEM_SECRET_TYPES.has(s.type) || refs.secrets.has(s.name)) continue;
    out.push({
      ...base,
      kind: 'Secret',
      name: s.name,
      why: `${s.type} Secret that no Deployment references (env, envFrom, volumes, imagePullSecrets)`,
      monthly_cost: 0,
    });
  }
  for (const c of ns.configMaps ?? []) {
    if (SYSTEM_CONFIGMAPS.has(c.name) || refs.configMaps.has(c.name)) continue;
    out.push({
      ...base,
      kind: 'ConfigMap',
      name: c.name,
      why: 'ConfigMap that no Deployment references (env, envFrom, volumes)',
      monthly_cost: 0,
    });
  }
}

type Obj = Record<string, unknown>;

function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Obj[]) : [];
}

function sum(xs: number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
