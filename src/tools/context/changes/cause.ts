import type { ExecuteContext } from '../../../contract/define-tool.js';

/**
 * How day2 signs the rollouts it makes. Every write that rolls out a new ReplicaSet revision sets
 * these annotations on the Deployment in the same request; the deployment controller copies them
 * to the ReplicaSet, so the rollout history itself says that day2 made the revision, for whom, and
 * under which approval — `kubectl rollout history` included. The change ledger reads them back.
 */
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
export const APPROVAL_ID = 'day2.dev/approval-id';
export const ACTION_DIGEST = 'day2.dev/action-digest';
/** The approval-id value of a write policy let through without one (a stale id must not linger). */
export const NO_APPROVAL = 'none';

/** The annotations of a rollout `tool` makes in `ctx`'s action: e.g. `day2: rollback_deployment by agent-7, approval apr_…`. */
export function rolloutCause(tool: string, ctx: ExecuteContext, note?: string): Record<string, string> {
  const approval = ctx.action.approval_id;
  return {
    [CHANGE_CAUSE]: `day2: ${tool}${note ? ` (${note})` : ''} by ${ctx.principal.id}${approval ? `, approval ${approval}` : ''}`,
    [APPROVAL_ID]: approval ?? NO_APPROVAL,
    [ACTION_DIGEST]: ctx.action.digest,
  };
}

/** The same signature for the automatic rollback a guarded rollout makes after its new pods fail. */
export function autoRollbackCause(cause: Record<string, string>): Record<string, string> {
  const text = cause[CHANGE_CAUSE] ?? 'day2';
  return { ...cause, [CHANGE_CAUSE]: text.replace(/^day2: (\S+)/, 'day2: $1 (automatic rollback)') };
}

/** What a revision's annotations say about day2 having made it, or undefined when they do not. */
export function day2Cause(
  annotations: Record<string, string> | undefined,
): { digest?: string; approval_id?: string; principal?: string; tool?: string } | undefined {
  const a = annotations ?? {};
  const cause = a[CHANGE_CAUSE] ?? '';
  const m = /^day2: ([a-z_]+)(?: \([^)]*\))? by (.+?)(?:, approval (\S+))?$/.exec(cause);
  // Someone else's change-cause over day2's leftover approval annotations: not day2's revision.
  if (!m && (cause !== '' || a[ACTION_DIGEST] === undefined)) return undefined;
  const approval = a[APPROVAL_ID] ?? m?.[3];
  return {
    ...(a[ACTION_DIGEST] ? { digest: a[ACTION_DIGEST] } : {}),
    ...(approval && approval !== NO_APPROVAL ? { approval_id: approval } : {}),
    ...(m ? { tool: m[1], principal: m[2] } : {}),
  };
}
