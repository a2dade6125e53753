import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import type { Deps } from '../../contract/deps.js';
import type { DeploymentInfo, PodUsage } from '../../providers/kubernetes/types.js';
import { resolveDatabase } from '../database/resolve-database.js';
import { formatAmount, perPod, quotaChecks } from './quota.js';
import { resolveWorkload, workloadFields } from './workload.js';

/** Target CPU utilisation when the service has no HPA that says one. */
const DEFAULT_TARGET_CPU = 70;
/** Connections one replica is assumed to hold when nothing measures it. */
const DEFAULT_POOL = 10;

const callSchema = z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) });

export const planCapacity = defineTool({
  name: 'plan_capacity',
  title: 'Plan capacity for a load',
  description:
    'Replicas needed for load_factor× today’s load at the target CPU, HPA bounds, quota and database connection headroom, and the calls.',
  toolset: 'deploys',
  effect: 'read',
  risk: 'low',
  input: {
    ...workloadFields,
    load_factor: z.number().gt(0).max(100).describe('e.g. 3 for three times the current traffic'),
  },
  output: {
    env: z.string(),
    namespace: z.string(),
    deployment: z.string(),
    load_factor: z.number(),
    current: z.object({
      replicas: z.number(),
      cpu_usage_m: z.number().nullable(),
      cpu_request_per_pod_m: z.number(),
      utilization_pct: z.number().nullable(),
    }),
    target_cpu_pct: z.number(),
    needed_replicas: z.number(),
    basis: z.string().describe('how the replicas were worked out'),
    hpa: z
      .object({ name: z.string(), min: z.number(), max: z.number(), caps: z.boolean() })
      .optional()
      .describe('caps: its max is below the replicas needed'),
    quota: z.array(
      z.object({
        quota: z.string(),
        resource: z.string(),
        headroom: z.string(),
        needs: z.string(),
        fits: z.boolean(),
      }),
    ),
    database: z
      .object({
        database: z.string(),
        max_connections: z.number(),
        in_use: z.number(),
        per_replica: z.number(),
        per_replica_measured: z.boolean(),
        after: z.number().describe('connections in use once scaled'),
        fits: z.boolean(),
      })
      .optional(),
    blockers: z.array(z.string()),
    calls: z.array(callSchema).describe('the calls that make it so, in order'),
    notes: z.array(z.string()),
  },
  async run(args, ctx) {
    const w = resolveWorkload(ctx.deps, args);
    const [d, hpas, quotas, nsDeployments, usage] = await Promise.all([
      w.k8s.getDeployment(w.namespace, w.name),
      w.k8s.listHpas(w.namespace),
      w.k8s.listResourceQuotas(w.namespace),
      w.k8s.listDeployments(w.namespace),
      w.k8s.podMetrics(w.namespace).catch(() => undefined),
    ]);
    const notes: string[] = [];
    const blockers: string[] = [];
    const hpa = hpas.find((h) => h.target.kind === 'Deployment' && h.target.name === w.name);
    const target = hpa?.targetCpuUtilization ?? DEFAULT_TARGET_CPU;
    const requestM = perPod(d)['requests.cpu']! * 1000;
    const usedM = cpuUsage(d, usage);
    const replicas = Math.max(d.replicas, 1);
    let needed: number;
    let basis: string;
    if (usedM !== null && requestM > 0) {
      needed = Math.max(1, Math.ceil((usedM * args.load_factor) / ((requestM * target) / 100)));
      basis = `${Math.round(usedM)}m CPU in use × ${args.load_factor} ÷ (${Math.round(requestM)}m requested per pod × ${target}% target) = ${needed} replicas`;
    } else {
      needed = Math.ceil(replicas * args.load_factor);
      basis = `${replicas} replicas × ${args.load_factor} (no ${requestM > 0 ? 'pod metrics' : 'CPU requests'} to size by utilisation)`;
      notes.push(
        requestM > 0
          ? 'pod metrics (metrics.k8s.io) were not available: replicas scale with the load factor, not with measured use'
          : `${w.name} requests no CPU: set_resources first, or an HPA has nothing to aim at`,
      );
    }
    const target_ = {
      env: w.env,
      ...(w.service ? { service: w.service } : { namespace: w.namespace, deployment: w.name }),
    };
    const calls: z.infer<typeof callSchema>[] = [];
    const caps = hpa !== undefined && hpa.maxReplicas < needed;
    if (hpa) {
      if (caps)
        blockers.push(`HPA ${hpa.name} allows at most ${hpa.maxReplicas} replicas; ${needed} are needed`);
      if (caps || hpa.minReplicas > needed)
        calls.push({
          tool: 'set_autoscaling',
          arguments: {
            ...target_,
            min_replicas: Math.min(hpa.minReplicas, needed),
            max_replicas: Math.max(hpa.maxReplicas, Math.ceil(needed * 1.25)),
            target_cpu_percent: target,
            reason: `plan_capacity: ${args.load_factor}× load`,
          },
        });
      else
        notes.push(
          `HPA ${hpa.name} (${hpa.minReplicas}-${hpa.maxReplicas}) already allows ${needed} replicas: it scales out as the load comes`,
        );
    } else if (needed > d.replicas) {
      calls.push({
        tool: 'scale_deployment',
        arguments: { ...target_, replicas: needed, reason: `plan_capacity: ${args.load_factor}× load` },
      });
      notes.push(
        `no HPA: set_autoscaling ${JSON.stringify({ ...target_, min_replicas: d.replicas, max_replicas: Math.ceil(needed * 1.25), target_cpu_percent: target })} would follow the load instead`,
      );
    }
    if (needed <= d.replicas)
      notes.push(
        `the ${d.replicas} replicas running now carry ${args.load_factor}× today's load at ${target}% CPU`,
      );
    const quota = quotaChecks(quotas, d, needed - d.replicas, nsDeployments).map((q) => {
      if (!q.fits)
        blockers.push(
          `quota ${q.quota} ${q.resource}: ${formatAmount(q.resource, q.headroom)} left, ${formatAmount(q.resource, q.change)} more needed`,
        );
      return {
        quota: q.quota,
        resource: q.resource,
        headroom: formatAmount(q.resource, q.headroom),
        needs: formatAmount(q.resource, q.change),
        fits: q.fits,
      };
    });
    const database = await connectionHeadroom(ctx.deps, w.env, w.service, d.replicas, needed, notes);
    if (database && !database.fits)
      blockers.push(
        `database ${database.database}: ${database.after} connections needed once scaled, max_connections allows ${database.max_connections}; add a pooler or lower the pool size`,
      );
    return {
      env: w.env,
      namespace: w.namespace,
      deployment: w.name,
      load_factor: args.load_factor,
      current: {
        replicas: d.replicas,
        cpu_usage_m: usedM === null ? null : Math.round(usedM),
        cpu_request_per_pod_m: Math.round(requestM),
        utilization_pct:
          usedM !== null && requestM > 0 ? Math.round((usedM / (requestM * replicas)) * 100) : null,
      },
      target_cpu_pct: target,
      needed_replicas: needed,
      basis,
      ...(hpa ? { hpa: { name: hpa.name, min: hpa.minReplicas, max: hpa.maxReplicas, caps } } : {}),
      quota,
      ...(database ? { database } : {}),
      blockers,
      calls,
      notes,
    };
  },
  render(o) {
    return [
      `${o.env} ${o.namespace}/${o.deployment} at ${o.load_factor}× load: ${o.needed_replicas} replicas (now ${o.current.replicas}, CPU ${o.current.utilization_pct ?? '?'}% of requests; target ${o.target_cpu_pct}%)`,
      `basis: ${o.basis}`,
      ...(o.hpa
        ? [
            `HPA ${o.hpa.name}: ${o.hpa.min}-${o.hpa.max}${o.hpa.caps ? ` — its max caps scaling below ${o.needed_replicas}` : ''}`,
          ]
        : []),
      ...o.quota.map(
        (q) =>
          `quota ${q.quota} ${q.resource}: needs ${q.needs}, headroom ${q.headroom}${q.fits ? '' : ' — DOES NOT FIT'}`,
      ),
      ...(o.database
        ? [
            `database ${o.database.database}: ${o.database.in_use} of ${o.database.max_connections} connections in use; ${o.database.per_replica} per replica${o.database.per_replica_measured ? ' (measured)' : ' (assumed)'} → ${o.database.after} once scaled${o.database.fits ? '' : ' — DOES NOT FIT'}`,
          ]
        : []),
      ...o.blockers.map((b) => `blocker: ${b}`),
      ...o.notes.map((n) => `note: ${n}`),
      ...(o.calls.length
        ? ['next calls:', ...o.calls.map((c) => `- ${c.tool} ${JSON.stringify(c.arguments)}`)]
        : ['no change needed']),
    ].join('\n');
  },
});

/** CPU in use over the deployment's pods (millicores), or null without metrics. */
function cpuUsage(d: DeploymentInfo, usage: PodUsage[] | undefined): number | null {
  if (!usage) return null;
  const pairs = d.selector
    .split(',')
    .filter(Boolean)
    .map((p) => p.split('=') as [string, string]);
  const own = usage.filter((u) => pairs.every(([k, v]) => u.labels[k] === v));
  if (own.length === 0) return null;
  return own.reduce((s, u) => s + u.containers.reduce((t, c) => t + c.cpuMillicores, 0), 0);
}

/**
 * Connections the service's database would carry once scaled: the connections its role holds now
 * per replica (measured from pg_stat_activity when the catalog names the role, else assumed),
 * times the replicas needed, plus everyone else's.
 */
async function connectionHeadroom(
  deps: Deps,
  env: string,
  service: string | undefined,
  replicas: number,
  needed: number,
  notes: string[],
) {
  if (!service) return undefined;
  let db;
  try {
    db = resolveDatabase(deps, { env, service });
  } catch {
    return undefined;
  }
  const role = deps.catalog.service(service)?.dbRole;
  try {
    const [r] = await deps.backends.postgres.query(
      db,
      `select current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int as max,
         (select count(*) from pg_stat_activity where backend_type = 'client backend')::int as in_use,
         (select count(*) from pg_stat_activity where backend_type = 'client backend' and usename = $1)::int as by_role`,
      [role ?? ''],
    );
    const max = Number(r?.max ?? 0);
    const inUse = Number(r?.in_use ?? 0);
    const byRole = Number(r?.by_role ?? 0);
    const measured = role !== undefined && byRole > 0 && replicas > 0;
    const per = measured ? Math.ceil(byRole / replicas) : DEFAULT_POOL;
    if (!measured)
      notes.push(
        `connections per replica assumed ${DEFAULT_POOL}: ${role ? `role ${role} holds none now` : 'the catalog names no day2.dev/db-role for this service'}`,
      );
    const after = measured ? inUse - byRole + per * needed : inUse + per * Math.max(0, needed - replicas);
    return {
      database: db.database,
      max_connections: max,
      in_use: inUse,
      per_replica: per,
      per_replica_measured: measured,
      after,
      fits: after <= max,
    };
  } catch (err) {
    notes.push(`database ${db.database} not read: ${(err as Error).message.slice(0, 160)}`);
    return undefined;
  }
}
