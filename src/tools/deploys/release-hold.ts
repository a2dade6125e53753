import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { envField } from '../../contract/fields.js';
import { resolveEnv } from '../context/resolve-service.js';
import { activeHolds, getHold, heldWhy, holdShape, holdView, saveHold, shortImage } from './holds.js';

export const releaseHold = defineTool({
  name: 'release_hold',
  title: 'Release a hold on a version',
  description:
    'Lift a hold that a rollback or an incident put on a bad version, so tools may offer it again.',
  toolset: 'deploys',
  effect: 'write',
  risk: 'high',
  input: {
    env: envField,
    hold_id: z.string().min(1).max(64).describe('as get_service or rollback_deployment names it'),
    reason: z.string().min(3).max(500).describe('why the version is safe again'),
  },
  output: { hold: holdShape, released_at: z.string(), released_by: z.string() },
  async plan(args, ctx) {
    const env = resolveEnv(ctx.deps, args.env);
    const h = await getHold(ctx.deps.store, args.hold_id);
    if (!h || h.env !== env) {
      const held = (await activeHolds(ctx.deps, { env })).slice(0, 5);
      throw new ToolError(
        `hold_id: no hold ${args.hold_id} in ${env}; ${held.length ? `holds in force: ${held.map((x) => `${x.id} (${shortImage(x.image)})`).join(', ')}` : 'no hold is in force there'}`,
        'not_found',
        'hold_id',
      );
    }
    return {
      summary: `release the hold on ${shortImage(h.image)} for ${h.service} in ${env}: tools may offer it again`,
      env,
      service: h.service,
      targets: [{ kind: 'Hold', name: h.id, service: h.service }],
      preconditions: { hold_id: h.id, released: h.released?.at ?? null },
      details: { hold: heldWhy(h), image: h.image, reason: args.reason },
      ...(h.released
        ? { refusal: `hold ${h.id} was already released at ${h.released.at} by ${h.released.by}` }
        : {}),
    };
  },
  async execute(args, ctx, plan) {
    const h = await getHold(ctx.deps.store, plan.preconditions.hold_id);
    if (!h || h.released)
      throw new ToolError(
        `hold_id: ${plan.preconditions.hold_id} changed since it was planned; call again without approval_token for a new plan`,
        'conflict',
        'hold_id',
      );
    const at = ctx.deps.clock.now().toISOString();
    const released = await saveHold(ctx.deps.store, {
      ...h,
      released: { at, by: ctx.principal.id, reason: args.reason, approval_id: ctx.action.approval_id },
    });
    return { hold: holdView(released), released_at: at, released_by: ctx.principal.id };
  },
  render: (o) =>
    `released hold ${o.hold.id} on ${shortImage(o.hold.image)} (${o.hold.service}, ${o.hold.env}); drift remediation, image updates and promotions may offer it again.`,
});
