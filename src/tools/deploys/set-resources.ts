import { z } from 'zod';
import { desiredChangeShape, desiredStateChange, desiredStateLines } from './drift/desired-change.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { reasonField } from '../../contract/fields.js';
import type { DeploymentInfo } from '../../providers/kubernetes/types.js';
import { cpuMillicores, memoryBytes, quantityValue } from '../../providers/kubernetes/quantity.js';
import { formatAmount, quotaChecks } from './quota.js';
import { autoRollbackNote, changeTemplate } from './rollout-watch.js';
import { rolloutCause } from '../context/changes/cause.js';
import {
  dependentsOf,
  deploymentTarget,
  pickContainer,
  resolveWorkload,
  rolloutResultFields,
  rolloutWatchFields,
  workloadFields,
} from './workload.js';

const cpu = z.string().min(1).max(32).optional().describe('e.g. 250m or 1.5');
const memory = z.string().min(1).max(32).optional().describe('e.g. 512Mi or 2Gi');
const amounts = z.strictObject({ cpu, memory });

type Amounts = { cpu?: string; memory?: string };
type Resources = { requests: Record<string, string>; limits: Record<string, string> };

export const setResources = defineTool({
  name: 'set_resources',
  title: 'Set resource requests and limits',
  description:
    "Set a container's CPU and memory requests or limits (rightsizing, an OOMKilled container); watches the rollout.",
  toolset: 'deploys',
  effect: 'write',
  risk: 'high',
  input: {
    ...workloadFields,
    container: z.string().min(1).max(63).optional().describe('default: the only one'),
    requests: amounts.optional(),
    limits: amounts.optional(),
    ...rolloutWatchFields,
    reason: reasonField,
  },
  output: {
    env: z.string(),
    namespace: z.string(),
    deployment: z.string(),
    container: z.string(),
    from: z.object({ requests: z.record(z.string(), z.string()), limits: z.record(z.string(), z.string()) }),
    to: z.object({ requests: z.record(z.string(), z.string()), limits: z.record(z.string(), z.string()) }),
    ...rolloutResultFields,
    revision: z.number().optional(),
    desired_state: desiredChangeShape.optional(),
  },
  async plan(args, ctx) {
    const w = resolveWorkload(ctx.deps, args);
    if (!args.requests?.cpu && !args.requests?.memory && !args.limits?.cpu && !args.limits?.memory)
      throw new ToolError('requests: give requests or limits for cpu or memory', 'invalid', 'requests');
    for (const [field, value] of [
      ['requests.cpu', args.requests?.cpu],
      ['requests.memory', args.requests?.memory],
      ['limits.cpu', args.limits?.cpu],
      ['limits.memory', args.limits?.memory],
    ] as const) {
      const v = value === undefined ? undefined : quantityValue(value);
      if (value !== undefined && (v === undefined || v <= 0))
        throw new ToolError(
          `${field}: "${value}" is not a positive Kubernetes quantity (e.g. ${field.endsWith('cpu') ? '250m or 1.5' : '512Mi or 2Gi'})`,
          'invalid',
          field,
        );
    }
    const [d, quotas, nsDeployments] = await Promise.all([
      w.k8s.getDeployment(w.namespace, w.name),
      w.k8s.listResourceQuotas(w.namespace),
      w.k8s.listDeployments(w.namespace),
    ]);
    const container = pickContainer(
      w,
      d.resources.map((r) => r.container),
      args.container,
    );
    const current = d.resources.find((r) => r.container === container)!;
    const from: Resources = { requests: { ...current.requests }, limits: { ...current.limits } };
    const to: Resources = {
      requests: { ...from.requests, ...defined(args.requests) },
      limits: { ...from.limits, ...defined(args.limits) },
    };

    let refusal: string | undefined;
    for (const r of ['cpu', 'memory'] as const) {
      const value = r === 'cpu' ? cpuMillicores : memoryBytes;
      if (to.requests[r] && to.limits[r] && value(to.requests[r]) > value(to.limits[r]))
        refusal ??= `${r}: the request ${to.requests[r]} would exceed the limit ${to.limits[r]}, which Kubernetes refuses: change the two together`;
    }
    if (!refusal && same(from, to)) refusal = `${container} already has these requests and limits`;
    const after: DeploymentInfo = {
      ...d,
      resources: d.resources.map((r) => (r.container === container ? { container, ...to } : r)),
    };
    const quota = quotaChecks(quotas, d, 0, nsDeployments, after);
    const overQuota = quota.filter((q) => !q.fits);
    if (!refusal && overQuota.length > 0)
      refusal = `the namespace quota has no room: ${overQuota.map((q) => `${q.quota} ${q.resource} used ${formatAmount(q.resource, q.used)} of ${formatAmount(q.resource, q.hard)}, needs ${formatAmount(q.resource, q.change)} more`).join('; ')}`;

    // The real dry run: the API server validates the patched template against the planned version.
    if (!refusal)
      await w.k8s.patchDeployment(w.namespace, w.name, templatePatch(container, to), {
        type: 'strategic',
        dryRun: true,
        resourceVersion: d.resourceVersion,
      });
    return {
      summary: `set ${w.env}/${w.namespace}/${w.name} container ${container} ${describe(from, to)}`,
      env: w.env,
      service: w.service,
      targets: [deploymentTarget(w)],
      preconditions: {
        deployment_resource_version: d.resourceVersion,
        container,
        resources_before: from,
        resources_after: to,
        revision: d.revision ?? null,
      },
      details: {
        deployment: `${w.namespace}/${w.name}`,
        container,
        resources: { from, to },
        replicas: { desired: d.replicas, ready: d.readyReplicas },
        rollout: 'a template change: every pod is replaced, paced by the rollout strategy',
        auto_rollback: autoRollbackNote(args, d.revision),
        quota: quota.map((q) => ({
          quota: q.quota,
          resource: q.resource,
          hard: formatAmount(q.resource, q.hard),
          used: formatAmount(q.resource, q.used),
          change: formatAmount(q.resource, q.change),
          fits: q.fits,
        })),
        dependents: dependentsOf(ctx.deps, w.service),
        ...(refusal
          ? {}
          : {
              desired_state: await desiredStateChange(ctx.deps.config, w.env, w, {
                container,
                set: { resources: nonEmpty(to) },
              }),
            }),
        reason: args.reason,
        way_back: `set_resources with requests ${JSON.stringify(from.requests)} and limits ${JSON.stringify(from.limits)}`,
      },
      ...(refusal ? { refusal } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const w = resolveWorkload(ctx.deps, args);
    const pre = plan.preconditions;
    const container = pre.container;
    const cause = rolloutCause('set_resources', ctx);
    const watched = await changeTemplate(w, pre.revision, args, ctx, cause, () =>
      w.k8s.patchDeployment(w.namespace, w.name, templatePatch(container, pre.resources_after), {
        type: 'strategic',
        resourceVersion: pre.deployment_resource_version,
        annotations: cause,
      }),
    );
    return {
      env: w.env,
      namespace: w.namespace,
      deployment: w.name,
      container,
      from: pre.resources_before,
      to: pre.resources_after,
      outcome: watched.outcome,
      reason: watched.reason,
      pod_problems: watched.problems,
      revision: watched.revision,
      // A change that stayed is drift until the desired state says the same.
      ...(watched.outcome === 'rolled_back'
        ? {}
        : {
            desired_state: await desiredStateChange(ctx.deps.config, w.env, w, {
              container,
              set: { resources: nonEmpty(pre.resources_after) },
            }),
          }),
    };
  },
  render: (o) =>
    [
      o.outcome === 'rolled_out'
        ? `${o.env}/${o.namespace}/${o.deployment} ${o.container} now runs with ${describe(o.from, o.to)} (revision ${o.revision ?? '?'})`
        : `${o.outcome}: ${o.env}/${o.namespace}/${o.deployment} ${o.container} ${describe(o.from, o.to)}: ${o.reason}. ${o.pod_problems.slice(0, 2).join('; ')}`,
      ...desiredStateLines(o.desired_state),
    ].join('\n'),
});

/** A strategic-merge patch that sets one container's resources (containers merge by name). */
function templatePatch(container: string, to: Resources): Record<string, unknown> {
  return { spec: { template: { spec: { containers: [{ name: container, resources: to }] } } } };
}

function defined(a: Amounts | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(a ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
}

function same(a: Resources, b: Resources): boolean {
  const eq = (x: Record<string, string>, y: Record<string, string>) =>
    Object.keys({ ...x, ...y }).every((k) => quantityValue(x[k]) === quantityValue(y[k]));
  return eq(a.requests, b.requests) && eq(a.limits, b.limits);
}

/** `requests cpu 500m → 250m, limits memory 1Gi → 2Gi`: only what changes. */
function describe(from: Resources, to: Resources): string {
  const parts: string[] = [];
  for (const kind of ['requests', 'limits'] as const)
    for (const r of ['cpu', 'memory'])
      if (quantityValue(from[kind][r]) !== quantityValue(to[kind][r]))
        parts.push(`${kind} ${r} ${from[kind][r] ?? 'none'} → ${to[kind][r] ?? 'none'}`);
  return parts.join(', ') || 'unchanged';
}

/** Resources as a manifest writes them: no empty requests or limits. */
function nonEmpty(r: Resources): Partial<Resources> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => Object.keys(v).length > 0));
}
