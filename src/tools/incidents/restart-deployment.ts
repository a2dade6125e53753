import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { envField, reasonField, rolloutTimeoutField, serviceField } from '../../contract/fields.js';
import { resolveIncidentTarget } from './resolve-target.js';
import { DEFAULT_ROLLOUT_TIMEOUT_S, waitWithProgress } from './rollout-wait.js';
import { rolloutCause } from '../context/changes/cause.js';

export const restartDeployment = defineTool({
  name: 'restart_deployment',
  title: 'Restart a deployment',
  description: 'Rollout restart; waits until new pods are ready.',
  toolset: 'incidents',
  effect: 'write',
  risk: 'high',
  input: {
    service: serviceField,
    env: envField,
    reason: reasonField,
    timeout_seconds: rolloutTimeoutField,
  },
  output: {
    deployment: z.string(),
    restarted_at: z.string(),
    revision: z.number().optional(),
    ready: z.boolean(),
    reason: z.string(),
    ready_replicas: z.number(),
    replicas: z.number(),
  },
  async plan(args, ctx) {
    const w = resolveIncidentTarget(ctx.deps, args.service, args.env);
    const d = await w.k8s.getDeployment(w.namespace, w.name);
    await w.k8s.restartDeployment(w.namespace, w.name, {
      dryRun: true,
      resourceVersion: d.resourceVersion,
      at: ctx.deps.clock.now(),
    });
    return {
      summary: `restart every pod of ${w.namespace}/${w.name} in ${w.env} (${d.replicas} replicas, ${d.images.map((i) => i.image).join(', ')})`,
      env: w.env,
      service: w.service,
      targets: [{ kind: 'Deployment', namespace: w.namespace, name: w.name, service: w.service }],
      preconditions: { resourceVersion: d.resourceVersion },
      details: {
        deployment: `${w.namespace}/${w.name}`,
        replicas: { desired: d.replicas, ready: d.readyReplicas },
        images: d.images,
        revision: d.revision,
        how: 'sets kubectl.kubernetes.io/restartedAt on the pod template; pods are replaced per the rolling-update strategy',
        dependents: ctx.deps.catalog.service(w.service)?.dependents.slice(0, 10) ?? [],
        reason: args.reason,
      },
    };
  },
  async execute(args, ctx, plan) {
    const w = resolveIncidentTarget(ctx.deps, args.service, args.env);
    const at = ctx.deps.clock.now();
    const after = await w.k8s.restartDeployment(w.namespace, w.name, {
      resourceVersion: plan.preconditions.resourceVersion,
      at,
      annotations: rolloutCause('restart_deployment', ctx),
    });
    const res = await waitWithProgress(
      w.k8s,
      w.namespace,
      w.name,
      ctx,
      args.timeout_seconds ?? DEFAULT_ROLLOUT_TIMEOUT_S,
      { message: `restarting ${w.namespace}/${w.name}`, desired: after.replicas },
    );
    const final = res.deployment ?? after;
    return {
      deployment: `${w.namespace}/${w.name}`,
      restarted_at: at.toISOString(),
      revision: final.revision,
      ready: res.ready,
      reason: res.reason,
      ready_replicas: final.readyReplicas,
      replicas: final.replicas,
    };
  },
  render: (o) =>
    `${o.deployment} restarted at ${o.restarted_at}: ${o.ready ? `${o.ready_replicas}/${o.replicas} ready` : `not ready (${o.reason})`}.`,
});
