import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { reasonField } from '../../contract/fields.js';
import { collectAlerts } from '../context/alerts.js';
import { parseImageRef } from '../../providers/registry/index.js';
import { gapReason } from '../context/gather.js';
import { changeTemplate } from './rollout-watch.js';
import { rolloutCause } from '../context/changes/cause.js';
import {
  dependentsOf,
  deploymentTarget,
  resolveWorkload,
  rolloutResultFields,
  rolloutWatchFields,
  workloadFields,
} from './workload.js';
import { activeHolds, holdOn, heldWhy, holdRefusal, overrideHoldField } from './holds.js';

export const promoteVersion = defineTool({
  name: 'promote_version',
  title: 'Promote a version between environments',
  description:
    'Make env run the image digests from_env runs for a service; refused while from_env alerts unless force.',
  toolset: 'deploys',
  effect: 'write',
  risk: 'high',
  input: {
    service: workloadFields.service,
    namespace: workloadFields.namespace.describe('same in both envs'),
    deployment: workloadFields.deployment,
    from_env: z.string().min(1).describe('e.g. staging'),
    env: z.string().min(1).describe('target, e.g. prod'),
    force: z.boolean().optional(),
    ...rolloutWatchFields,
    override_hold: overrideHoldField,
    reason: reasonField,
  },
  output: {
    service: z.string().optional(),
    from_env: z.string(),
    env: z.string(),
    namespace: z.string(),
    deployment: z.string(),
    changed: z.array(z.object({ container: z.string(), from: z.string(), to: z.string() })),
    ...rolloutResultFields,
    images_now: z.array(z.object({ container: z.string(), image: z.string() })),
  },
  async plan(args, ctx) {
    if (args.from_env === args.env)
      throw new ToolError('from_env: give two different environments', 'invalid', 'from_env');
    const src = resolveWorkload(ctx.deps, { ...args, env: args.from_env });
    const dst = resolveWorkload(ctx.deps, args);
    const [a, b, alerts] = await Promise.all([
      src.k8s.getDeployment(src.namespace, src.name),
      dst.k8s.getDeployment(dst.namespace, dst.name),
      collectAlerts(ctx.deps, { env: src.env, service: src.service ?? dst.service ?? src.name }),
    ]);
    const notes: string[] = [];
    const reg = ctx.deps.backends.has(src.env, 'registry') ? ctx.deps.backends.registry(src.env) : undefined;
    const changes: { container: string; from: string; to: string }[] = [];
    let refusal: string | undefined;
    for (const img of a.images) {
      let to = img.image;
      const ref = parseImageRef(to);
      if (!ref.digest) {
        // Promote what runs, not what a tag means later: pin the digest the tag resolves to now.
        const digest =
          reg?.owns(ref) && ref.tag
            ? await reg.client
                .manifestDigest(ref.repository, ref.tag)
                .catch((e: unknown) => (notes.push(`registry: ${gapReason(e)}`), undefined))
            : undefined;
        if (!digest) {
          refusal ??= `${src.env} runs ${img.container} as ${img.image}, which is not pinned by digest and the registry did not resolve it; promote needs exact digests`;
          continue;
        }
        to = `${to}@${digest}`;
      }
      const current = b.images.find((i) => i.container === img.container);
      if (!current) {
        refusal ??= `${dst.env} ${dst.namespace}/${dst.name} has no container "${img.container}"; the two environments run different pod templates`;
        continue;
      }
      if (parseImageRef(current.image).digest !== parseImageRef(to).digest || current.image !== to)
        changes.push({ container: img.container, from: current.image, to });
    }
    // A version held in the target (rolled back there, or named by an incident) is not promoted back.
    // Said first: unlike firing alerts, no force makes a held version safe.
    const holds = await activeHolds(ctx.deps, { env: dst.env });
    const held = changes.map((c) => holdOn(holds, c.to)).filter((h) => h !== undefined);
    refusal ??= holdRefusal(
      holds,
      changes.map((c) => c.to),
      args.override_hold,
    );
    const active = alerts.alerts.filter((al) => al.silenced_by.length === 0);
    if (!args.force) {
      if (active.length > 0)
        refusal ??= `${src.env} has ${active.length} active alert(s) on ${src.service ?? src.name}: ${active
          .slice(0, 3)
          .map((al) => `${al.severity} ${al.name}`)
          .join('; ')}; fix them first or pass force=true`;
      else if (alerts.gaps.length > 0)
        refusal ??= `the alerts of ${src.env} could not be read (${alerts.gaps.map((g) => g.backend).join(', ')}), so a healthy source cannot be confirmed; pass force=true to promote anyway`;
    }
    if (changes.length === 0) refusal ??= `${dst.env} already runs the same images as ${src.env}`;
    const patch = {
      spec: { template: { spec: { containers: changes.map((c) => ({ name: c.container, image: c.to })) } } },
    };
    if (!refusal)
      await dst.k8s.patchDeployment(dst.namespace, dst.name, patch, {
        dryRun: true,
        resourceVersion: b.resourceVersion,
        type: 'strategic',
      });
    return {
      summary: `promote ${dst.service ?? dst.name} ${src.env} → ${dst.env}: ${changes.map((c) => `${c.container} ${parseImageRef(c.from).tag ?? '?'} → ${parseImageRef(c.to).tag ?? '?'}`).join(', ') || 'no change'}`,
      env: dst.env,
      service: dst.service,
      targets: [deploymentTarget(dst)],
      preconditions: {
        deployment_resource_version: b.resourceVersion,
        source_images: a.images,
        changes,
        revision: b.revision ?? null,
      },
      details: {
        from: `${src.env}/${src.namespace}/${src.name}`,
        to: `${dst.env}/${dst.namespace}/${dst.name}`,
        differences: changes,
        source_alerts: active
          .slice(0, 5)
          .map((al) => ({ name: al.name, severity: al.severity, since: al.since })),
        forced: args.force === true && active.length > 0,
        current_revision: b.revision ?? null,
        dependents: dependentsOf(ctx.deps, dst.service),
        notes,
        reason: args.reason,
        way_back: `rollback_deployment to revision ${b.revision ?? '?'}`,
        ...(held.length ? { overrides_hold: held.map(heldWhy) } : {}),
      },
      ...(refusal ? { refusal } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const dst = resolveWorkload(ctx.deps, args);
    const pre = plan.preconditions;
    const patch = {
      spec: {
        template: { spec: { containers: pre.changes.map((c) => ({ name: c.container, image: c.to })) } },
      },
    };
    const cause = rolloutCause('promote_version', ctx);
    const watched = await changeTemplate(dst, pre.revision, args, ctx, cause, () =>
      dst.k8s.patchDeployment(dst.namespace, dst.name, patch, {
        resourceVersion: pre.deployment_resource_version,
        type: 'strategic',
        annotations: cause,
      }),
    );
    return {
      service: dst.service,
      from_env: args.from_env,
      env: dst.env,
      namespace: dst.namespace,
      deployment: dst.name,
      changed: pre.changes,
      outcome: watched.outcome,
      reason: watched.reason,
      pod_problems: watched.problems,
      images_now: watched.images,
    };
  },
  render: (o) =>
    o.outcome === 'rolled_out'
      ? `promoted ${o.service ?? o.deployment} ${o.from_env} → ${o.env}: ${o.changed.map((c) => `${c.container} now ${parseImageRef(c.to).tag ?? c.to}`).join(', ')}`
      : `${o.outcome === 'rolled_back' ? 'ROLLED BACK' : o.outcome}: promotion of ${o.service ?? o.deployment} to ${o.env} failed (${o.reason}). ${o.pod_problems.slice(0, 2).join('; ')}`,
});
