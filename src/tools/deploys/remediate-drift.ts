import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { reasonField } from '../../contract/fields.js';
import { ConflictError } from '../../providers/errors.js';
import type { KubeResource } from '../../providers/kubernetes/types.js';
import type { ObjectDrift } from './drift/index.js';
import { untrusted } from '../context/gather.js';
import {
  driftScopeFields,
  driftView,
  expectedBecause,
  heldDrift,
  objectRef,
  scanScope,
} from './drift-scope.js';
import { activeHolds, heldWhy, overrideHoldField } from './holds.js';
import { writeOrReplan } from './workload.js';
import { rolloutCause } from '../context/changes/cause.js';

const MAX_OBJECTS = 50;

export const remediateDrift = defineTool({
  name: 'remediate_drift',
  title: 'Remediate configuration drift',
  description:
    'Server-side apply the desired (GitOps) state to drifted objects; the token binds the exact diff.',
  toolset: 'deploys',
  effect: 'write',
  risk: 'high',
  input: {
    ...driftScopeFields,
    objects: z
      .array(z.string().min(1).max(300))
      .min(1)
      .max(MAX_OBJECTS)
      .optional()
      .describe('as detect_drift names them, e.g. "Deployment shop/orders"; default all drifted'),
    force_conflicts: z.boolean().optional().describe('take over fields another manager owns'),
    override_hold: overrideHoldField,
    reason: reasonField,
  },
  output: {
    env: z.string(),
    applied: z.array(
      z.object({
        object: z.string(),
        resource_version: z.string().optional(),
        remaining_drift: z.array(z.string()),
      }),
    ),
  },
  async plan(args, ctx) {
    const scope = await scanScope(ctx.deps, args);
    if (scope.gaps.length > 0)
      throw new ToolError(
        `cannot read all live objects, so the drift is not known: ${scope.gaps.map((g) => g.reason).join('; ')}`,
        'backend_unavailable',
      );
    let selected = scope.objects.filter((o) => o.status !== 'in_sync');
    if (args.objects) {
      const wanted = new Set(args.objects.map((s) => s.trim()));
      const known = new Set(scope.objects.map(objectRef));
      const unknown = [...wanted].filter((w) => !known.has(w));
      if (unknown.length)
        throw new ToolError(
          `objects: not in the desired state of ${scope.env} within this scope: ${unknown.slice(0, 5).join(', ')}; detect_drift lists them`,
          'not_found',
          'objects',
        );
      selected = selected.filter((o) => wanted.has(objectRef(o)));
    }
    // Drift a hold explains is the rollback holding: applying the desired state would put the bad
    // version back. Such objects are left alone unless the request overrides the hold.
    const holds = await activeHolds(ctx.deps, { env: scope.env });
    const held = selected.map((o) => ({ o, hold: heldDrift(o, holds) })).filter((x) => x.hold !== undefined);
    if (!args.override_hold) selected = selected.filter((o) => !held.some((x) => x.o === o));
    const skipped = args.override_hold
      ? []
      : held.map(
          (x) => `${objectRef(x.o)}: ${expectedBecause(x.hold!)}, or pass override_hold: true to put it back`,
        );
    let refusal: string | undefined;
    if (selected.length === 0)
      refusal = skipped.length
        ? `nothing to remediate: ${skipped.slice(0, 3).join('; ')}`
        : 'nothing to remediate: the selected objects match the desired state';
    else if (selected.length > MAX_OBJECTS)
      refusal = `${selected.length} objects drifted; remediate at most ${MAX_OBJECTS} at a time (narrow with namespace, kind or objects)`;
    const k8s = ctx.deps.backends.kubernetes(scope.env);
    const conflicts: string[] = [];
    if (!refusal) {
      // The real dry run: the API server merges, validates and checks field ownership (dryRun=All).
      for (const o of selected) {
        try {
          await k8s.serverSideApply(applyBody(o), { dryRun: true, force: args.force_conflicts === true });
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          conflicts.push(`${objectRef(o)}: ${untrusted(err.message, 300)}`);
        }
      }
      if (conflicts.length)
        refusal = `fields are owned by another field manager: ${conflicts.slice(0, 3).join('; ')}; call again with force_conflicts=true to take them over`;
    }
    const added = selected.reduce((n, o) => n + o.changes.filter((c) => c.op === 'added').length, 0);
    return {
      summary: `${selected.length ? `apply the desired state of ${selected.length} object(s) in ${scope.env}: ${selected.slice(0, 3).map(objectRef).join(', ')}${selected.length > 3 ? ', …' : ''}` : `nothing to apply in ${scope.env}`}${
        skipped.length
          ? `; leaves ${skipped.length} held object(s) alone (${held
              .map((x) => objectRef(x.o))
              .slice(0, 3)
              .join(', ')})`
          : ''
      }${args.override_hold && held.length ? `; OVERRIDES ${held.length} hold(s): puts back ${held.map((x) => heldWhy(x.hold!).split(' ')[0]).join(', ')}` : ''}`,
      env: scope.env,
      service: scope.service,
      targets: selected.slice(0, MAX_OBJECTS).map((o) => ({
        kind: o.kind,
        name: o.name,
        ...(o.namespace ? { namespace: o.namespace } : {}),
        ...(scope.service ? { service: scope.service } : {}),
      })),
      preconditions: {
        objects: selected.slice(0, MAX_OBJECTS).map((o) => ({
          object: objectRef(o),
          resource_version: o.resourceVersion ?? 'absent',
          diff: o.changes.map((c) => ({
            path: c.path,
            op: c.op,
            desired: c.desired ?? null,
            live: c.live ?? null,
          })),
        })),
        force_conflicts: args.force_conflicts === true,
      },
      details: {
        objects: selected.slice(0, 10).map((o) => driftView(o, 10)),
        more_objects: Math.max(0, selected.length - 10),
        method: `server-side apply, field manager day2${args.force_conflicts ? ', forcing conflicts' : ''}`,
        ...(skipped.length ? { skipped_held: skipped.slice(0, 10) } : {}),
        ...(args.override_hold && held.length
          ? { overrides_hold: held.slice(0, 10).map((x) => `${objectRef(x.o)}: ${heldWhy(x.hold!)}`) }
          : {}),
        note:
          added > 0
            ? `${added} path(s) exist only live; apply does not remove fields another manager owns`
            : undefined,
        reason: args.reason,
      },
      ...(refusal ? { refusal } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const scope = await scanScope(ctx.deps, args);
    const k8s = ctx.deps.backends.kubernetes(scope.env);
    const planned = plan.preconditions.objects;
    const byRef = new Map(scope.objects.map((o) => [objectRef(o), o]));
    const applied: { object: string; resource_version?: string; remaining_drift: string[] }[] = [];
    for (const p of planned) {
      const o = byRef.get(p.object);
      if (!o)
        throw new ToolError(
          `${p.object} left the desired state since it was planned; call again without approval_token for a new plan`,
          'conflict',
          'objects',
        );
      const body = applyBody(o);
      // A Deployment whose pod template changes rolls out a new revision: day2 signs it.
      if (o.kind === 'Deployment' && o.changes.some((c) => c.path.startsWith('spec.template')))
        body.metadata.annotations = {
          ...(body.metadata.annotations as Record<string, string> | undefined),
          ...rolloutCause('remediate_drift', ctx),
        };
      // The apply carries the planned resourceVersion: the API server refuses it (409) if the object moved.
      if (p.resource_version !== 'absent') body.metadata.resourceVersion = p.resource_version;
      const result = await writeOrReplan(`object ${p.object}`, () =>
        k8s.serverSideApply(body, { force: args.force_conflicts === true }),
      );
      applied.push({
        object: p.object,
        resource_version: result.metadata.resourceVersion,
        remaining_drift: [],
      });
    }
    // Say what is still different afterwards (for example fields another manager keeps).
    const after = await scanScope(ctx.deps, args);
    const afterByRef = new Map(after.objects.map((o) => [objectRef(o), o]));
    for (const a of applied)
      a.remaining_drift = (afterByRef.get(a.object)?.changes ?? [])
        .slice(0, 10)
        .map((c) => `${c.op} ${c.path}`);
    return { env: scope.env, applied };
  },
  render: (o) =>
    `applied the desired state to ${o.applied.length} object(s) in ${o.env}: ${o.applied.map((a) => `${a.object}${a.remaining_drift.length ? ` (still differs: ${a.remaining_drift.slice(0, 2).join(', ')})` : ''}`).join('; ')}`,
});

function applyBody(o: ObjectDrift): KubeResource {
  const m = structuredClone(o.manifest) as KubeResource & { status?: unknown };
  delete m.status;
  m.metadata = { ...m.metadata, ...(o.namespace ? { namespace: o.namespace } : {}) };
  delete m.metadata.resourceVersion;
  return m;
}
