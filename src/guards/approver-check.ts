import type { ApprovalRequest } from '../store/store.js';
import { samePrincipal } from '../core/principal.js';

export type ApproverCheck = { ok: true } | { ok: false; code: string; message: string };

/**
 * Whether `principal` may approve `request` now. Pure: the CLI, elicitation and any approval page
 * all go through it, so separation of duties is decided in one place.
 */
export function checkApprover(
  request: ApprovalRequest,
  principal: string,
  now: Date,
  opts: { reason?: string; channel: string },
): ApproverCheck {
  if (request.status === 'consumed') return fail('consumed', `approval ${request.id} was already used`);
  if (request.status === 'denied') return fail('denied', `approval ${request.id} was denied`);
  if (request.status === 'expired' || Date.parse(request.expires_at) <= now.getTime())
    return fail(
      'expired',
      `approval ${request.id} expired at ${request.expires_at}; call the tool again for a new request`,
    );
  if (request.status === 'approved')
    return fail('already_approved', `approval ${request.id} is already approved`);
  if (request.policy.distinct_from_requester && samePrincipal(principal, request.requester))
    return fail(
      'self_approval',
      `${principal} requested this action and policy rule "${request.policy.rule}" needs an approver other than the requester`,
    );
  const excluded = excludedApprovers(request);
  if (excluded.some((p) => samePrincipal(p, principal)))
    return fail('excluded_approver', `${principal} is the subject of this action and cannot approve it`);
  if (request.decisions.some((d) => d.decision === 'approve' && samePrincipal(d.principal, principal)))
    return fail(
      'duplicate_approver',
      `${principal} has already approved ${request.id}; another approver is needed`,
    );
  if (request.policy.reason_required && !opts.reason?.trim())
    return fail('reason_required', `policy rule "${request.policy.rule}" needs a reason: pass --reason "…"`);
  if (!request.policy.channels.includes(opts.channel))
    return fail(
      'channel_not_allowed',
      `policy rule "${request.policy.rule}" does not accept approvals through ${opts.channel}` +
        ` (it takes ${request.policy.channels.join(', ') || 'none'}${request.policy.channels.includes('signed') ? ': sign with day2 approve --key' : ''})`,
    );
  return { ok: true };
}

/** Principals a plan names as unable to approve (for example the grantee of an access grant). */
export function excludedApprovers(request: ApprovalRequest): string[] {
  const plan = request.plan as { excluded_approvers?: unknown } | undefined;
  return Array.isArray(plan?.excluded_approvers)
    ? plan.excluded_approvers.filter((p): p is string => typeof p === 'string')
    : [];
}

function fail(code: string, message: string): ApproverCheck {
  return { ok: false, code, message };
}

/** Approvals that count towards a request: the store's own count (see countedApprovers). */
export { countedApprovers as approvers } from '../store/approval-state.js';
