import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { envField, reasonField } from '../../contract/fields.js';
import { planRotation } from './rotation/plan-rotation.js';
import { runRotation } from './rotation/run-rotation.js';
import { renderRotation, rotationShape, rotationView } from './rotation-shape.js';

const NAME = 'rotate_credential';

export const rotateCredential = defineTool({
  name: NAME,
  title: 'Rotate a database credential',
  // The model sees a short description; the whole story (steps, rollback, resume, the single-user
  // window) is in README.md under "Credential rotation".
  description:
    'Rotate a database credential in Secrets Manager: new password, test login, promote, restart dependents. Re-run to resume.',
  toolset: 'secrets',
  effect: 'write',
  risk: 'high',
  input: {
    service: z.string().min(1).optional().describe('whose database credential; or give secret'),
    secret: z.string().min(1).optional().describe('Secrets Manager name, e.g. prod/payment-service/db'),
    env: envField,
    strategy: z
      .enum(['single-user', 'alternating-users'])
      .optional()
      .describe('default single-user (alternating-users for <role>_clone)'),
    reason: reasonField,
  },
  output: { rotation: rotationShape },
  async plan(args, ctx) {
    return (await planRotation(ctx.deps, args)).plan;
  },
  async execute(args, ctx, plan) {
    // The digest the approval was issued for keys the rotation and its ClientRequestToken.
    const doc = await runRotation(ctx.deps, plan.preconditions, {
      actionDigest: ctx.action.digest,
      principal: ctx.principal.id,
      signal: ctx.signal,
      progress: (p, total, message) => ctx.progress(p, total, message).catch(() => undefined),
    });
    return { rotation: rotationView(doc) };
  },
  render: (o) => renderRotation(o.rotation),
});
