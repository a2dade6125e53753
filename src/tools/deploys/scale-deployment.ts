import { z } from 'zod';
import { defineTool, type Risk, type Target } from '../../contract/define-tool.js';
import { reasonField } from '../../contract/fields.js';
import type { HpaInfo } from '../../providers/kubernetes/types.js';
import { formatAmount, quotaChecks } from './quota.js';
import {
  dependentsOf,
  deploymentTarget,
  resolveWorkload,
  workloadFields,
  writeOrReplan,
} from './workload.js';

export const scaleDeployment = defineTool({
  name: 'scale_deployment',
  title: 'Scale a deployment',
  description:
    'Scale a deployment; the plan shows the change, a fighting HPA, quota headroom and dependents.',
  toolset: 'deploys',
  effect: 'write',
  risk: 'low',
  input: {
    ...workloadFields,
    replicas: z.number().int().min(0).max(1000),
    adjust_hpa: z.boolean().optional().describe("widen the HPA's min/max to include replicas"),
    reason: reasonField,
  },
  output: {
    env: z.string(),
    namespace: z.string(),
    deployment: z.string(),
    from: z.number(),
    to: z.number(),
    hpa: z.object({ name: z.string(), min: z.number(), max: z.number() }).optional(),
    ready: z.number(),
    resource_version: z.string(),
  },
  async plan(args, ctx) {
    const w = resolveWorkload(ctx.deps, args);
    const [d, hpas, quotas, nsDeployments] = await Promise.all([
      w.k8s.getDeployment(w.namespace, w.name),
      w.k8s.listHpas(w.namespace),
      w.k8s.listResourceQuotas(w.namespace),
      w.k8s.listDeployments(w.namespace),
    ]);
    const hpa = hpas.find((h) => h.target.kind === 'Deployment' && h.target.name === w.name);
    const to = args.replicas;
    const quota = quotaChecks(quotas, d, to - d.replicas, nsDeployments);
    const overQuota = quota.filter((q) => !q.fits);
    const outside = hpa !== undefined && (to < hpa.minReplicas || to > hpa.maxReplicas);
    const newBounds =
      hpa && outside && args.adjust_hpa
        ? { min: Math.max(1, Math.min(hpa.minReplicas, to)), max: Math.max(hpa.maxReplicas, to) }
        : undefined;

    let refusal: string | undefined;
    if (hpa && outside && to === 0)
      refusal = `HPA ${hpa.namespace}/${hpa.name} keeps at least ${hpa.minReplicas} replicas and cannot go to 0; use set_autoscaling or remove the HPA first`;
    else if (hpa && outside && !args.adjust_hpa)
      refusal = `HPA ${hpa.namespace}/${hpa.name} keeps ${w.name} between ${hpa.minReplicas} and ${hpa.maxReplicas} replicas and would undo a scale to ${to}; call again with adjust_hpa=true to move its bounds to ${Math.max(1, Math.min(hpa.minReplicas, to))}-${Math.max(hpa.maxReplicas, to)}`;
    else if (overQuota.length > 0)
      refusal = `the namespace quota has no room: ${overQuota.map((q) => `${q.quota} ${q.resource} used ${formatAmount(q.resource, q.used)} of ${formatAmount(q.resource, q.hard)}, needs ${formatAmount(q.resource, q.change)} more`).join('; ')}`;
    else if (to === d.replicas && !newBounds) refusal = `${w.namespace}/${w.name} already has ${to} replicas`;

    // The real dry run: the API server validates the change (dryRun=All) against the planned version.
    if (!refusal) {
      await w.k8s.scaleDeployment(w.namespace, w.name, to, {
        dryRun: true,
        resourceVersion: d.resourceVersion,
      });
      if (hpa && newBounds)
        await w.k8s.upsertHpa(w.namespace, hpaSpec(hpa, newBounds), {
          dryRun: true,
          resourceVersion: hpa.resourceVersion,
        });
    }
    const targets: Target[] = [deploymentTarget(w)];
    if (hpa && newBounds)
      targets.push({
        kind: 'HorizontalPodAutoscaler',
        namespace: hpa.namespace,
        name: hpa.name,
        ...(w.service ? { service: w.service } : {}),
      });
    const risk: Risk | undefined = to === 0 ? 'critical' : to < d.replicas / 2 ? 'high' : undefined;
    return {
      summary: `scale ${w.env}/${w.namespace}/${w.name} from ${d.replicas} to ${to} replicas${newBounds ? ` and set HPA ${hpa!.name} bounds to ${newBounds.min}-${newBounds.max}` : ''}`,
      env: w.env,
      service: w.service,
      targets,
      preconditions: {
        deployment_resource_version: d.resourceVersion,
        replicas: d.replicas,
        ...(hpa ? { hpa_resource_version: hpa.resourceVersion } : {}),
        // Follow from the HPA bound just above and the arguments.
        ...(hpa && newBounds ? { hpa_bounds: { name: hpa.name, ...newBounds } } : {}),
      },
      details: {
        deployment: `${w.namespace}/${w.name}`,
        replicas: { current: d.replicas, desired: to, ready: d.readyReplicas },
        hpa: hpa
          ? {
              name: hpa.name,
              min: hpa.minReplicas,
              max: hpa.maxReplicas,
              target_cpu_percent: hpa.targetCpuUtilization,
              fights_change: outside,
              ...(newBounds ? { new_min: newBounds.min, new_max: newBounds.max } : {}),
              note: outside
                ? undefined
                : 'the HPA stays in charge: it may move replicas again within its bounds',
            }
          : null,
        quota: quota.map((q) => ({
          quota: q.quota,
          resource: q.resource,
          hard: formatAmount(q.resource, q.hard),
          used: formatAmount(q.resource, q.used),
          headroom: formatAmount(q.resource, q.headroom),
          change: formatAmount(q.resource, q.change),
          fits: q.fits,
        })),
        dependents: dependentsOf(ctx.deps, w.service),
        reason: args.reason,
        way_back: `scale_deployment with replicas=${d.replicas}`,
      },
      ...(risk ? { risk } : {}),
      ...(refusal ? { refusal } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const w = resolveWorkload(ctx.deps, args);
    const pre = plan.preconditions;
    const bounds = pre.hpa_bounds;
    let hpaOut: { name: string; min: number; max: number } | undefined;
    if (bounds) {
      const hpa = await w.k8s.getHpa(w.namespace, bounds.name);
      const updated = await writeOrReplan('HorizontalPodAutoscaler', () =>
        w.k8s.upsertHpa(w.namespace, hpaSpec(hpa, bounds), {
          resourceVersion: pre.hpa_resource_version,
        }),
      );
      hpaOut = { name: updated.name, min: updated.minReplicas, max: updated.maxReplicas };
    }
    const d = await writeOrReplan('deployment', () =>
      w.k8s.scaleDeployment(w.namespace, w.name, args.replicas, {
        resourceVersion: pre.deployment_resource_version,
      }),
    );
    return {
      env: w.env,
      namespace: w.namespace,
      deployment: w.name,
      from: pre.replicas,
      to: d.replicas,
      hpa: hpaOut,
      ready: d.readyReplicas,
      resource_version: d.resourceVersion,
    };
  },
  render: (o) =>
    `scaled ${o.env}/${o.namespace}/${o.deployment} from ${o.from} to ${o.to} replicas (${o.ready} ready now)${o.hpa ? `; HPA ${o.hpa.name} bounds ${o.hpa.min}-${o.hpa.max}` : ''}`,
});

function hpaSpec(hpa: HpaInfo, bounds: { min: number; max: number }) {
  return {
    name: hpa.name,
    target: { kind: hpa.target.kind || 'Deployment', name: hpa.target.name },
    minReplicas: bounds.min,
    maxReplicas: bounds.max,
    targetCpuUtilization: hpa.targetCpuUtilization ?? 80,
  };
}
