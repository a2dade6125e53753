import { z } from 'zod';
import { defineTool, ToolError } from '../define-tool.js';
import { approvalTokenField, dryRunField, envField, reasonField } from '../fields.js';
import { actionDigest } from '../../guards/action-digest.js';
import { planRotation, type PlannedRotation } from '../../rotation/plan-rotation.js';
import { runRotation } from '../../rotation/run-rotation.js';
import { renderRotation, rotationShape, rotationView } from './rotation-shape.js';

const NAME = 'rotate_credential';

export const rotateCredential = defineTool({
  name: NAME,
  title: 'Rotate a database credential',
  description: [
    'Rotates a PostgreSQL credential held in AWS Secrets Manager, end to end: createSecret (new AWSPENDING version from GetRandomPassword) → setSecret (ALTER ROLE; alternating-users uses <role>_clone) → testSecret (a real login) → finishSecret (AWSCURRENT moves, AWSPREVIOUS kept) → restart the dependents in restart order, each waited on → verify (ready, no new alert) → notify the owners.',
    'Give {service, env} and day2 finds the secret, database, role and dependents; or name the secret. Without approval_token it returns the plan and an approval request.',
    'Failures before AWSCURRENT moves roll back (AWSPENDING removed; single-user: the role gets its AWSCURRENT password back). In production the owners are notified first: if that fails nothing changes.',
    'Interrupted (process killed, a dependent not ready, notifier down)? Call rotate_credential again with the same service/secret and env, without a token: the plan says "resume rotation <id> from step <X>" and needs a fresh approval (the digest binds the rotation id and the step); every step is idempotent (ClientRequestToken = version id), so the resumed run converges.',
    'single-user window: after AWSCURRENT moves and before a dependent restarts, its pods still hold the old password and cannot open new connections; alternating-users has no such window (the previous user stays valid until the next rotation).',
  ].join(' '),
  toolset: 'secrets',
  effect: 'write',
  risk: 'high',
  input: {
    service: z
      .string()
      .min(1)
      .optional()
      .describe('service from the catalog whose database credential to rotate, e.g. payment-service'),
    secret: z
      .string()
      .min(1)
      .optional()
      .describe('Secrets Manager secret name instead of a service, e.g. prod/payment-service/db'),
    env: envField,
    strategy: z
      .enum(['single-user', 'alternating-users'])
      .optional()
      .describe('default single-user (alternating-users when the role is already <role>_clone)'),
    reason: reasonField,
    approval_token: approvalTokenField,
    dry_run: dryRunField,
  },
  output: { rotation: rotationShape },
  async plan(args, ctx) {
    return (await planRotation(ctx.deps, args)).plan;
  },
  async execute(args, ctx, plan) {
    const planned = plan.details.rotation as PlannedRotation | undefined;
    if (!planned)
      throw new ToolError(
        'the plan carries no rotation; call rotate_credential again without a token',
        'internal',
      );
    // The same digest the approval was issued for: it keys the rotation and its ClientRequestToken.
    const digest = actionDigest({
      tool: NAME,
      args,
      env: plan.env,
      targets: plan.targets,
      preconditions: plan.preconditions,
    });
    const doc = await runRotation(ctx.deps, planned, {
      actionDigest: digest,
      principal: ctx.principal.id,
      signal: ctx.signal,
      progress: (p, total, message) => ctx.progress(p, total, message).catch(() => undefined),
    });
    return { rotation: rotationView(doc) };
  },
  render: (o) => renderRotation(o.rotation),
});
