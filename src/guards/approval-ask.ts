import type { ApprovalRequest } from '../store/store.js';
import { samePrincipal } from '../core/principal.js';
import { excludedApprovers } from './approver-check.js';
import { SIGNED_CHANNEL } from './approver-keys.js';
import { PAGE_CHANNEL } from './approval-link.js';

/** Who may not approve a request: its requester where policy says so, and whom its plan names (a grantee). */
export function mayNotApprove(r: ApprovalRequest): string[] {
  const out = r.policy.distinct_from_requester ? [r.requester] : [];
  for (const p of excludedApprovers(r)) if (!out.some((q) => samePrincipal(p, q))) out.push(p);
  return out;
}

/**
 * The text of an approval_required result, which must stand alone (many hosts show the model only
 * the text): what the human will be asked for (approvers, who may not approve, a reason, the
 * channels), how they approve, and the agent's next calls.
 */
export function approvalRequiredText(r: ApprovalRequest, pageUrl: string | undefined): string {
  const p = r.policy;
  const notBy = mayNotApprove(r).map((who) =>
    samePrincipal(who, r.requester) ? `${who} (the requester)` : who,
  );
  const reason = p.reason_required ? ' --reason "…"' : '';
  const ways = p.channels.flatMap((c) => {
    if (c === 'cli') return [`day2 approve ${r.id}${reason}`];
    if (c === SIGNED_CHANNEL) return [`day2 approve ${r.id}${reason} --key <approver>.pem`];
    return c === PAGE_CHANNEL && pageUrl ? [pageUrl] : [];
  });
  const approvers = `${p.approvals_needed} approver${p.approvals_needed === 1 ? '' : 's'}`;
  return [
    `Approval required (rule "${p.rule}"): ${r.summary}`,
    `A human is asked for ${approvers}${notBy.length ? `, not ${notBy.join(' nor ')}` : ''}` +
      `${p.reason_required ? ', with a reason' : ''}, through ${p.channels.join(' or ')}` +
      `${ways.length ? `: ${ways.join(' or ')}` : ''}.`,
    `Next: wait with get_approval {"approval_id":"${r.id}","wait_s":60}, then call ${r.tool} again with the same arguments plus "approval_id":"${r.id}".`,
  ].join('\n');
}
