import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, envField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
import { gather } from '../context/gather.js';
import { serviceOf } from '../context/deployments.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnvWith } from '../context/resolve-service.js';
import type {
  DeploymentInfo,
  HpaInfo,
  PodInfo,
  PodUsage,
  ResourceQuotaInfo,
} from '../../providers/kubernetes/types.js';
import { formatAmount, perPod, quantity } from './quota.js';

const row = z.object({
  service: z.string(),
  namespace: z.string(),
  deployment: z.string(),
  replicas: z.object({ desired: z.number(), ready: z.number(), pending_pods: z.number() }),
  cpu: z
    .object({
      request_m: z.number(),
      limit_m: z.number().nullable(),
      usage_m: z.number().nullable(),
      utilization_pct: z.number().nullable(),
    })
    .describe('totals over all replicas, millicores'),
  memory: z
    .object({
      request_mib: z.number(),
      limit_mib: z.number().nullable(),
      usage_mib: z.number().nullable(),
      utilization_pct: z.number().nullable(),
    })
    .describe('totals over all replicas, MiB'),
  hpa: z.object({ min: z.number(), max: z.number(), target_cpu_pct: z.number().optional() }).optional(),
  flags: z.array(
    z.enum([
      'pending_pods',
      'cpu_hot',
      'memory_hot',
      'over_provisioned',
      'no_requests',
      'no_metrics',
      'at_hpa_max',
    ]),
  ),
});

/** Quota rows shown; quotas_total counts them all. */
const QUOTAS_SHOWN = 30;

export const capacityReport = defineTool({
  name: 'capacity_report',
  title: 'Capacity report',
  description: 'Per service: replicas, requests and limits against actual usage, headroom and pending pods.',
  toolset: 'deploys',
  effect: 'read',
  risk: 'low',
  input: {
    env: envField,
    service: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    env: z.string(),
    services: z.array(row),
    total: z.number(),
    next_cursor: z.string().optional(),
    totals: z.object({
      cpu_request_m: z.number(),
      cpu_usage_m: z.number(),
      memory_request_mib: z.number(),
      memory_usage_mib: z.number(),
      pending_pods: z.number(),
    }),
    quotas: z
      .array(
        z.object({
          namespace: z.string(),
          quota: z.string(),
          resource: z.string(),
          hard: z.string(),
          used: z.string(),
          headroom: z.string(),
        }),
      )
      .describe(`the first ${QUOTAS_SHOWN}`),
    quotas_total: z.number(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const env = resolveEnvWith(deps, args.env, 'kubernetes');
    const svc = args.service ? deps.catalog.resolver.service(args.service, { env }) : undefined;
    const workload = svc ? deps.catalog.workloadFor(svc.id, env) : undefined;
    const k8s = deps.backends.kubernetes(env);
    const namespaces = args.namespace
      ? [args.namespace]
      : workload
        ? [workload.namespace]
        : k8s.namespaces.length
          ? [...k8s.namespaces]
          : [...new Set((await k8s.listDeployments()).map((d) => d.namespace))];
    const { results, gaps } = await gather(
      namespaces.map((ns) => ({
        backend: 'kubernetes',
        env,
        run: async () => {
          const [deployments, hpas, quotas, usage] = await Promise.all([
            k8s.listDeployments(ns),
            k8s.listHpas(ns),
            k8s.listResourceQuotas(ns),
            k8s.podMetrics(ns).catch(() => undefined),
          ]);
          // Pods are only read where some deployment is short of ready replicas: elsewhere none is pending.
          const short = deployments.some(
            (d) => d.readyReplicas < d.replicas || d.updatedReplicas < d.replicas,
          );
          const pods = short ? await k8s.listPods(ns) : [];
          return { ns, deployments, pods, hpas, quotas, usage };
        },
      })),
      deps.config.backends.timeout,
    );
    const rows: z.infer<typeof row>[] = [];
    const quotaRows: {
      namespace: string;
      quota: string;
      resource: string;
      hard: string;
      used: string;
      headroom: string;
    }[] = [];
    for (const { value: n } of results) {
      if (!n.usage)
        gaps.push({
          backend: 'metrics.k8s.io',
          env,
          reason: `pod metrics of namespace ${n.ns} not available`,
        });
      for (const d of n.deployments) {
        if (workload && d.name !== workload.name) continue;
        rows.push(capacityRow(serviceOf(deps, env, d), d, n.pods, n.usage, n.hpas));
      }
      quotaRows.push(...quotaSummary(n.ns, n.quotas));
    }
    rows.sort(
      (a, b) =>
        rank(a) - rank(b) || a.service.localeCompare(b.service) || a.namespace.localeCompare(b.namespace),
    );
    const page = pageOf(rows, args);
    const sum = (f: (r: z.infer<typeof row>) => number | null) =>
      Math.round(rows.reduce((s, r) => s + (f(r) ?? 0), 0));
    return {
      env,
      services: page.items,
      total: page.total,
      next_cursor: page.next_cursor,
      totals: {
        cpu_request_m: sum((r) => r.cpu.request_m),
        cpu_usage_m: sum((r) => r.cpu.usage_m),
        memory_request_mib: sum((r) => r.memory.request_mib),
        memory_usage_mib: sum((r) => r.memory.usage_mib),
        pending_pods: sum((r) => r.replicas.pending_pods),
      },
      quotas: quotaRows.slice(0, QUOTAS_SHOWN),
      quotas_total: quotaRows.length,
      gaps,
    };
  },
  render: (o, args) =>
    answerText({
      head: [
        `${o.env}: ${o.total} services; CPU ${o.totals.cpu_usage_m}m used of ${o.totals.cpu_request_m}m requested, memory ${o.totals.memory_usage_mib}Mi of ${o.totals.memory_request_mib}Mi${o.totals.pending_pods ? `, ${o.totals.pending_pods} pending pods` : ''}`,
      ],
      rows: o.services.map(
        (s) =>
          `${s.service} ${s.replicas.ready}/${s.replicas.desired} cpu ${s.cpu.usage_m ?? '?'}m/${s.cpu.request_m}m (${s.cpu.utilization_pct ?? '?'}%) mem ${s.memory.usage_mib ?? '?'}Mi/${s.memory.request_mib}Mi${s.flags.length ? ` [${s.flags.join(', ')}]` : ''}`,
      ),
      tail: [
        pageLine('services', { shown: o.services.length, ...o }, { tool: 'capacity_report', args }),
        o.quotas.length &&
          `Quotas${o.quotas_total > o.quotas.length ? ` (${o.quotas.length} of ${o.quotas_total})` : ''}: ${o.quotas
            .map(
              (q) =>
                `${q.namespace}/${q.quota} ${q.resource} ${q.used} of ${q.hard} (headroom ${q.headroom})`,
            )
            .join('; ')}`,
        gapsLine(o.gaps),
      ],
    }),
});

const MIB = 2 ** 20;

/** Matches `k=v,k2=v2` equality selectors (the form DeploymentInfo.selector uses). */
function selectorMatcher(selector: string): (labels: Record<string, string>) => boolean {
  const pairs = selector
    .split(',')
    .filter(Boolean)
    .map((p) => p.split('=') as [string, string]);
  return (labels) => pairs.every(([k, v]) => labels[k] === v);
}

function capacityRow(
  service: string,
  d: DeploymentInfo,
  pods: PodInfo[],
  usage: PodUsage[] | undefined,
  hpas: HpaInfo[],
): z.infer<typeof row> {
  const matches = selectorMatcher(d.selector);
  const own = pods.filter((p) => matches(p.labels));
  const pending = own.filter((p) => p.phase === 'Pending').length;
  const per = perPod(d);
  const hasCpuLimit = d.resources.some((c) => c.limits.cpu);
  const hasMemLimit = d.resources.some((c) => c.limits.memory);
  const used = usage?.filter((u) => matches(u.labels));
  const cpuUse = used
    ? used.reduce((s, u) => s + u.containers.reduce((t, c) => t + c.cpuMillicores, 0), 0)
    : null;
  const memUse = used
    ? used.reduce((s, u) => s + u.containers.reduce((t, c) => t + c.memoryBytes, 0), 0) / MIB
    : null;
  const cpuReq = per['requests.cpu']! * 1000 * d.replicas;
  const memReq = (per['requests.memory']! / MIB) * d.replicas;
  const pct = (u: number | null, r: number) => (u === null || r <= 0 ? null : Math.round((u / r) * 100));
  const hpa = hpas.find((h) => h.target.kind === 'Deployment' && h.target.name === d.name);
  const cpuPct = pct(cpuUse, cpuReq);
  const memPct = pct(memUse, memReq);
  const flags: z.infer<typeof row>['flags'] = [];
  if (pending > 0) flags.push('pending_pods');
  if (cpuPct !== null && cpuPct >= 90) flags.push('cpu_hot');
  if (memPct !== null && memPct >= 90) flags.push('memory_hot');
  if (cpuPct !== null && cpuPct < 20 && d.replicas > 0 && (memPct === null || memPct < 40))
    flags.push('over_provisioned');
  if (cpuReq === 0 && memReq === 0) flags.push('no_requests');
  if (!used || (used.length === 0 && d.replicas > 0)) flags.push('no_metrics');
  if (hpa && d.replicas >= hpa.maxReplicas) flags.push('at_hpa_max');
  return {
    service,
    namespace: d.namespace,
    deployment: d.name,
    replicas: { desired: d.replicas, ready: d.readyReplicas, pending_pods: pending },
    cpu: {
      request_m: Math.round(cpuReq),
      limit_m: hasCpuLimit ? Math.round(per['limits.cpu']! * 1000 * d.replicas) : null,
      usage_m: cpuUse === null ? null : Math.round(cpuUse),
      utilization_pct: cpuPct,
    },
    memory: {
      request_mib: Math.round(memReq),
      limit_mib: hasMemLimit ? Math.round((per['limits.memory']! / MIB) * d.replicas) : null,
      usage_mib: memUse === null ? null : Math.round(memUse),
      utilization_pct: memPct,
    },
    hpa: hpa
      ? { min: hpa.minReplicas, max: hpa.maxReplicas, target_cpu_pct: hpa.targetCpuUtilization }
      : undefined,
    flags,
  };
}

function rank(r: z.infer<typeof row>): number {
  if (r.flags.includes('pending_pods')) return 0;
  if (r.flags.includes('cpu_hot') || r.flags.includes('memory_hot') || r.flags.includes('at_hpa_max'))
    return 1;
  if (r.flags.includes('over_provisioned')) return 2;
  return 3;
}

function quotaSummary(ns: string, quotas: ResourceQuotaInfo[]) {
  return quotas.flatMap((q) =>
    Object.entries(q.hard).map(([k, hard]) => {
      const used = q.used[k];
      return {
        namespace: ns,
        quota: q.name,
        resource: k,
        hard: formatAmount(k, quantity(hard)),
        used: used === undefined ? 'not reported' : formatAmount(k, quantity(used)),
        headroom: used === undefined ? 'unknown' : formatAmount(k, quantity(hard) - quantity(used)),
      };
    }),
  );
}
