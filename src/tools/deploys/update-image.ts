import { z } from 'zod';
import { desiredChangeShape, desiredStateChange, desiredStateLines } from './drift/desired-change.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { reasonField } from '../../contract/fields.js';
import { formatImageRef, parseImageRef } from '../../providers/registry/index.js';
import { gapReason } from '../context/gather.js';
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
import { activeHolds, holdOn, heldWhy, holdRefusal, overrideHoldField } from './holds.js';

export const updateImage = defineTool({
  name: 'update_image',
  title: 'Update a container image',
  description:
    "Set a container's image tag or digest; watches the rollout and rolls back if new pods crash-loop.",
  toolset: 'deploys',
  effect: 'write',
  risk: 'high',
  input: {
    ...workloadFields,
    container: z.string().min(1).max(63).optional().describe('default: the only one'),
    tag: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\w][\w.-]*$/, 'a tag such as 6.2.0')
      .optional()
      .describe('same repository'),
    digest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 hex>')
      .optional()
      .describe('sha256:<64 hex>'),
    image: z.string().min(1).max(512).optional().describe('full reference, instead of tag/digest'),
    ...rolloutWatchFields,
    override_hold: overrideHoldField,
    reason: reasonField,
  },
  output: {
    env: z.string(),
    namespace: z.string(),
    deployment: z.string(),
    container: z.string(),
    from: z.string(),
    to: z.string(),
    ...rolloutResultFields,
    revision: z.number().optional(),
    desired_state: desiredChangeShape.optional(),
    rolled_back_to_revision: z.number().optional(),
    image_now: z.string(),
  },
  async plan(args, ctx) {
    const w = resolveWorkload(ctx.deps, args);
    const d = await w.k8s.getDeployment(w.namespace, w.name);
    const container = pickContainer(
      w,
      d.images.map((i) => i.container),
      args.container,
    );
    const current = d.images.find((i) => i.container === container)!;
    if (!args.image && !args.tag && !args.digest)
      throw new ToolError('tag: give a tag, a digest or a full image', 'invalid', 'tag');
    const cur = parseImageRef(current.image);
    let next = args.image
      ? parseImageRef(args.image)
      : {
          ...cur,
          tag: args.tag ?? cur.tag,
          digest: args.digest ?? (args.tag && args.tag !== cur.tag ? undefined : cur.digest),
        };
    // Resolve a tag to the digest it points at now, so that what is approved is what runs.
    const notes: string[] = [];
    const reg = ctx.deps.backends.has(w.env, 'registry') ? ctx.deps.backends.registry(w.env) : undefined;
    let refusal: string | undefined;
    if (reg?.owns(next) && next.tag && !next.digest) {
      try {
        const digest = await reg.client.manifestDigest(next.repository, next.tag);
        if (digest) next = { ...next, digest };
        else
          refusal = `the registry has no tag ${next.repository}:${next.tag}; patch_report lists the available ones`;
      } catch (err) {
        notes.push(`registry not read, digest not pinned: ${gapReason(err)}`);
      }
    }
    const image = formatImageRef(next);
    if (image === current.image) refusal ??= `${container} already runs ${image}`;
    // A version a rollback or an incident marked bad here is not put back by accident.
    const holds = await activeHolds(ctx.deps, { env: w.env });
    const held = holdOn(holds, image);
    refusal ??= holdRefusal(holds, [image], args.override_hold);
    const raw = await w.k8s.getObject('apps/v1', 'Deployment', w.namespace, w.name);
    const spec =
      (raw as { spec?: { strategy?: unknown; progressDeadlineSeconds?: number; minReadySeconds?: number } })
        .spec ?? {};
    if (!refusal)
      await w.k8s.setImage(w.namespace, w.name, container, image, {
        dryRun: true,
        resourceVersion: d.resourceVersion,
      });
    return {
      summary: `set ${w.env}/${w.namespace}/${w.name} container ${container} image ${cur.tag ?? cur.digest?.slice(0, 19) ?? '?'} → ${next.tag ?? next.digest?.slice(0, 19) ?? '?'}`,
      env: w.env,
      service: w.service,
      targets: [deploymentTarget(w)],
      preconditions: {
        deployment_resource_version: d.resourceVersion,
        container,
        image_before: current.image,
        image_after: image,
        revision: d.revision ?? null,
      },
      details: {
        deployment: `${w.namespace}/${w.name}`,
        container,
        image: { from: current.image, to: image },
        strategy: spec.strategy ?? null,
        progress_deadline_seconds: spec.progressDeadlineSeconds ?? 600,
        replicas: { desired: d.replicas, ready: d.readyReplicas },
        current_revision: d.revision ?? null,
        auto_rollback: autoRollbackNote(args, d.revision),
        ...(held ? { overrides_hold: heldWhy(held) } : {}),
        dependents: dependentsOf(ctx.deps, w.service),
        ...(refusal
          ? {}
          : {
              desired_state: await desiredStateChange(ctx.deps.config, w.env, w, {
                container,
                set: { image },
              }),
            }),
        notes,
        reason: args.reason,
        way_back: `update_image with image ${current.image}`,
      },
      ...(refusal ? { refusal } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const w = resolveWorkload(ctx.deps, args);
    const pre = plan.preconditions;
    const container = pre.container;
    const cause = rolloutCause('update_image', ctx);
    const watched = await changeTemplate(w, pre.revision, args, ctx, cause, () =>
      w.k8s.setImage(w.namespace, w.name, container, pre.image_after, {
        resourceVersion: pre.deployment_resource_version,
        annotations: cause,
      }),
    );
    return {
      env: w.env,
      namespace: w.namespace,
      deployment: w.name,
      container,
      from: pre.image_before,
      to: pre.image_after,
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
              set: { image: pre.image_after },
            }),
          }),
      rolled_back_to_revision: watched.rolled_back_to,
      image_now: watched.images.find((i) => i.container === container)?.image ?? '',
    };
  },
  render: (o) =>
    [
      o.outcome === 'rolled_out'
        ? `${o.env}/${o.namespace}/${o.deployment} ${o.container} now runs ${o.to} (revision ${o.revision ?? '?'})`
        : o.outcome === 'rolled_back'
          ? `ROLLED BACK: ${o.to} failed in ${o.env}/${o.namespace}/${o.deployment} (${o.reason}); day2 restored revision ${o.rolled_back_to_revision ?? '?'}, running ${o.image_now}. ${o.pod_problems.slice(0, 2).join('; ')}`
          : `${o.outcome}: ${o.env}/${o.namespace}/${o.deployment} ${o.container} → ${o.to}: ${o.reason}. ${o.pod_problems.slice(0, 2).join('; ')}`,
      ...desiredStateLines(o.desired_state),
    ].join('\n'),
});
