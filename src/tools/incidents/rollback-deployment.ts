import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { envField, reasonField, rolloutTimeoutField, serviceField } from '../../contract/fields.js';
import { resolveIncidentTarget } from './resolve-target.js';
import { DEFAULT_ROLLOUT_TIMEOUT_S, waitWithProgress } from './rollout-wait.js';
import type { ContainerImage } from '../../providers/kubernetes/types.js';
import { holdShape, holdView, newHoldId, saveHold, shortImage, type Hold } from '../deploys/holds.js';
import { rolloutCause } from '../context/changes/cause.js';

export const rollbackDeployment = defineTool({
  name: 'rollback_deployment',
  title: 'Roll back a deployment',
  description: 'Roll back to the previous or a given revision; holds the bad one.',
  toolset: 'incidents',
  effect: 'write',
  risk: 'high',
  input: {
    service: serviceField,
    env: envField,
    revision: z.number().int().min(1).optional(),
    reason: reasonField,
    timeout_seconds: rolloutTimeoutField,
  },
  output: {
    deployment: z.string(),
    from_revision: z.number().optional(),
    to_revision: z.number().describe('the revision rolled back to, as named in the plan'),
    new_revision: z
      .number()
      .optional()
      .describe('the revision number Kubernetes gave the rolled-back template'),
    images: z.array(z.object({ container: z.string(), image: z.string() })),
    ready: z.boolean(),
    reason: z.string().describe('Complete, ProgressDeadlineExceeded, Timeout or Aborted'),
    ready_replicas: z.number(),
    replicas: z.number(),
    holds: z.array(holdShape).describe('the versions rolled back from, now held'),
  },
  async plan(args, ctx) {
    const w = resolveIncidentTarget(ctx.deps, args.service, args.env);
    const [d, history] = await Promise.all([
      w.k8s.getDeployment(w.namespace, w.name),
      w.k8s.listReplicaSets(w.namespace, undefined, w.name),
    ]);
    const current = d.revision ?? history[0]?.revision;
    const target =
      args.revision !== undefined
        ? history.find((r) => r.revision === args.revision)
        : history
            .filter((r) => current === undefined || r.revision < current)
            .sort((a, b) => b.revision - a.revision)[0];
    const available = history
      .map((r) => `${r.revision}: ${r.images.map((i) => i.image).join(', ')}`)
      .slice(0, 8);
    if (!target)
      throw new ToolError(
        args.revision !== undefined
          ? `revision: ${w.namespace}/${w.name} has no revision ${args.revision}; available: ${available.join('; ') || 'none'}`
          : `revision: ${w.namespace}/${w.name} has no previous revision to roll back to`,
        'not_found',
        'revision',
      );
    const diff = imageDiff(d.images, target.images);
    const base = {
      env: w.env,
      service: w.service,
      targets: [{ kind: 'Deployment', namespace: w.namespace, name: w.name, service: w.service }],
      preconditions: {
        resourceVersion: d.resourceVersion,
        revision: current ?? null,
        target_revision: target.revision,
        target_images: target.images,
        from_images: d.images,
      },
    };
    const summary = `roll back ${w.namespace}/${w.name} in ${w.env} from revision ${current ?? '?'} to ${target.revision} (${diff.map((x) => `${x.container}: ${tag(x.from)} → ${tag(x.to)}`).join(', ') || 'same images'})`;
    if (target.revision === current)
      return {
        ...base,
        summary,
        details: {},
        refusal: `revision ${target.revision} is already the current revision of ${w.namespace}/${w.name}`,
      };
    // A real server-side dry run: the API server validates the patch and changes nothing.
    await w.k8s.rollbackDeployment(w.namespace, w.name, target.revision, {
      dryRun: true,
      resourceVersion: d.resourceVersion,
    });
    return {
      ...base,
      summary,
      details: {
        deployment: `${w.namespace}/${w.name}`,
        from: { revision: current, images: d.images },
        to: {
          revision: target.revision,
          images: target.images,
          created: target.createdAt,
          change_cause: target.changeCause,
        },
        image_diff: diff,
        replicas: { desired: d.replicas, ready: d.readyReplicas },
        dependents: ctx.deps.catalog.service(w.service)?.dependents.slice(0, 10) ?? [],
        history: available,
        way_back:
          current !== undefined
            ? `rollback_deployment {"service":"${w.service}","env":"${w.env}","revision":${current}}`
            : undefined,
        reason: args.reason,
        holds: diff.length
          ? `${diff.map((x) => shortImage(x.from)).join(', ')} will be held in ${w.env}: no day2 tool offers it again until release_hold`
          : undefined,
      },
    };
  },
  async execute(args, ctx, plan) {
    const w = resolveIncidentTarget(ctx.deps, args.service, args.env);
    const pre = plan.preconditions;
    const after = await w.k8s.rollbackDeployment(w.namespace, w.name, pre.target_revision, {
      resourceVersion: pre.resourceVersion,
      annotations: rolloutCause('rollback_deployment', ctx),
    });
    const res = await waitWithProgress(
      w.k8s,
      w.namespace,
      w.name,
      ctx,
      args.timeout_seconds ?? DEFAULT_ROLLOUT_TIMEOUT_S,
      {
        message: `rolling back ${w.namespace}/${w.name} to revision ${pre.target_revision}`,
        desired: after.replicas,
      },
    );
    const final = res.deployment ?? after;
    // The version rolled back from is known bad here: hold it, so that drift remediation, image
    // updates, promotions and the backlog do not offer to put it back.
    const now = ctx.deps.clock.now().toISOString();
    const holds: Hold[] = [];
    for (const x of imageDiff(pre.from_images ?? [], pre.target_images))
      if (x.from !== '(none)')
        holds.push(
          await saveHold(ctx.deps.store, {
            id: newHoldId(),
            env: w.env,
            service: w.service,
            namespace: w.namespace,
            deployment: w.name,
            container: x.container,
            image: x.from,
            reason: args.reason ?? `rolled back to revision ${pre.target_revision}`,
            held_by: ctx.principal.id,
            approval_id: ctx.action.approval_id,
            source: 'rollback',
            created_at: now,
          }),
        );
    return {
      deployment: `${w.namespace}/${w.name}`,
      from_revision: pre.revision ?? undefined,
      to_revision: pre.target_revision,
      new_revision: final.revision,
      images: final.images,
      ready: res.ready,
      reason: res.reason,
      ready_replicas: final.readyReplicas,
      replicas: final.replicas,
      holds: holds.map(holdView),
    };
  },
  render: (o) =>
    `${o.deployment} rolled back to revision ${o.to_revision} (now revision ${o.new_revision ?? '?'}, ${o.images.map((i) => i.image).join(', ')}): ` +
    (o.ready
      ? `${o.ready_replicas}/${o.replicas} ready.`
      : `not ready (${o.reason}), ${o.ready_replicas}/${o.replicas} ready.`) +
    (o.holds.length
      ? ` Held ${o.holds.map((h) => `${shortImage(h.image)} (${h.id})`).join(', ')}: detect_drift shows the desired state's copy as expected drift, and no tool offers it again until release_hold.`
      : ''),
});

function imageDiff(from: ContainerImage[], to: ContainerImage[]) {
  const names = [...new Set([...from, ...to].map((c) => c.container))];
  return names
    .map((c) => ({
      container: c,
      from: from.find((x) => x.container === c)?.image ?? '(none)',
      to: to.find((x) => x.container === c)?.image ?? '(none)',
    }))
    .filter((x) => x.from !== x.to);
}

function tag(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  return noDigest.slice(noDigest.lastIndexOf('/') + 1);
}
