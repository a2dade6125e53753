import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { reasonField } from '../../contract/fields.js';
import { NotFoundError } from '../../providers/errors.js';
import {
  dependentsOf,
  deploymentTarget,
  resolveWorkload,
  workloadFields,
  writeOrReplan,
} from './workload.js';

export const setAutoscaling = defineTool({
  name: 'set_autoscaling',
  title: 'Set autoscaling',
  description: "Create or change a deployment's HPA: min and max replicas and target CPU.",
  toolset: 'deploys',
  effect: 'write',
  risk: 'low',
  input: {
    ...workloadFields,
    min_replicas: z.number().int().min(1).max(1000),
    max_replicas: z.number().int().min(1).max(1000),
    target_cpu_percent: z.number().int().min(1).max(100).describe('of requests'),
    reason: reasonField,
  },
  output: {
    env: z.string(),
    namespace: z.string(),
    hpa: z.string(),
    created: z.boolean(),
    min_replicas: z.number(),
    max_replicas: z.number(),
    target_cpu_percent: z.number().optional(),
    resource_version: z.string(),
  },
  async plan(args, ctx) {
    const w = resolveWorkload(ctx.deps, args);
    const [d, hpas] = await Promise.all([
      w.k8s.getDeployment(w.namespace, w.name),
      w.k8s.listHpas(w.namespace),
    ]);
    const existing = hpas.find((h) => h.target.kind === 'Deployment' && h.target.name === w.name);
    const name = existing?.name ?? w.name;
    const refusal =
      args.min_replicas > args.max_replicas
        ? `min_replicas (${args.min_replicas}) is greater than max_replicas (${args.max_replicas})`
        : existing &&
            existing.minReplicas === args.min_replicas &&
            existing.maxReplicas === args.max_replicas &&
            existing.targetCpuUtilization === args.target_cpu_percent
          ? `HPA ${w.namespace}/${name} already has these settings`
          : undefined;
    const spec = hpaSpec(name, w.name, args);
    if (!refusal)
      await w.k8s.upsertHpa(w.namespace, spec, { dryRun: true, resourceVersion: existing?.resourceVersion });
    const before = existing
      ? {
          min: existing.minReplicas,
          max: existing.maxReplicas,
          target_cpu_percent: existing.targetCpuUtilization,
        }
      : null;
    return {
      summary: `${existing ? 'update' : 'create'} HPA ${w.env}/${w.namespace}/${name}: ${args.min_replicas}-${args.max_replicas} replicas at ${args.target_cpu_percent}% CPU`,
      env: w.env,
      service: w.service,
      targets: [
        deploymentTarget(w),
        {
          kind: 'HorizontalPodAutoscaler',
          namespace: w.namespace,
          name,
          ...(w.service ? { service: w.service } : {}),
        },
      ],
      preconditions: { hpa: name, hpa_resource_version: existing?.resourceVersion ?? 'absent' },
      details: {
        hpa: `${w.namespace}/${name}`,
        before,
        after: {
          min: args.min_replicas,
          max: args.max_replicas,
          target_cpu_percent: args.target_cpu_percent,
        },
        deployment_replicas: { current: d.replicas, ready: d.readyReplicas },
        note:
          d.replicas < args.min_replicas || d.replicas > args.max_replicas
            ? `the deployment runs ${d.replicas} replicas; the HPA will move it into ${args.min_replicas}-${args.max_replicas}`
            : undefined,
        dependents: dependentsOf(ctx.deps, w.service),
        reason: args.reason,
        way_back: before
          ? `set_autoscaling with min ${before.min}, max ${before.max}, target ${before.target_cpu_percent ?? 80}%`
          : 'delete the HPA',
      },
      ...(refusal ? { refusal } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const w = resolveWorkload(ctx.deps, args);
    const { hpa: name, hpa_resource_version: planned } = plan.preconditions;
    if (planned === 'absent') {
      // The provider would replace an HPA that appeared meanwhile: refuse instead.
      const appeared = await w.k8s.getHpa(w.namespace, name).catch((e: unknown) => {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      });
      if (appeared)
        throw new ToolError(
          'the HorizontalPodAutoscaler changed since it was planned (it was created meanwhile); call again without approval_token for a new plan',
          'conflict',
          'hpa',
        );
    }
    const spec = hpaSpec(name, w.name, args);
    const hpa = await writeOrReplan('HorizontalPodAutoscaler', () =>
      w.k8s.upsertHpa(w.namespace, spec, planned === 'absent' ? {} : { resourceVersion: planned }),
    );
    return {
      env: w.env,
      namespace: w.namespace,
      hpa: hpa.name,
      created: planned === 'absent',
      min_replicas: hpa.minReplicas,
      max_replicas: hpa.maxReplicas,
      target_cpu_percent: hpa.targetCpuUtilization,
      resource_version: hpa.resourceVersion,
    };
  },
  render: (o) =>
    `${o.created ? 'created' : 'updated'} HPA ${o.env}/${o.namespace}/${o.hpa}: ${o.min_replicas}-${o.max_replicas} replicas at ${o.target_cpu_percent ?? '?'}% CPU`,
});

/** The HPA the call asks for: what plan dry-runs and execute writes. */
function hpaSpec(
  name: string,
  deployment: string,
  args: { min_replicas: number; max_replicas: number; target_cpu_percent: number },
) {
  return {
    name,
    target: { kind: 'Deployment', name: deployment },
    minReplicas: args.min_replicas,
    maxReplicas: args.max_replicas,
    targetCpuUtilization: args.target_cpu_percent,
  };
}
