import type { ApprovalRequest } from '../store/store.js';
import { approvers } from '../guards/approver-check.js';

/** Everything an approver must see before saying yes: the action, its plan and where it stands. */
export function renderApproval(r: ApprovalRequest): string {
  const got = approvers(r);
  const lines = [
    `Approval ${r.id}  [${r.status}]`,
    `  summary:     ${r.summary}`,
    `  environment: ${r.env}`,
    `  tool:        ${r.tool}`,
    ...(r.service ? [`  service:     ${r.service}`] : []),
    `  requester:   ${r.requester}`,
    `  requested:   ${r.created_at}   expires: ${r.expires_at}`,
    `  policy:      rule "${r.policy.rule}" (policy ${r.policy.version}): ${r.policy.approvals_needed} approval(s)` +
      `${r.policy.distinct_from_requester ? ', approvers other than the requester' : ''}${r.policy.reason_required ? ', reason required' : ''}`,
    `  approvals:   ${got.length} of ${r.policy.approvals_needed}${got.length ? ` (${got.join(', ')})` : ''}`,
    ...r.decisions
      .filter((d) => d.decision === 'deny')
      .map((d) => `  denied by:   ${d.principal}${d.reason ? `: ${d.reason}` : ''}`),
    `  digest:      ${r.action_digest}`,
    '  arguments:',
    indent(JSON.stringify(r.args ?? {}, null, 2), 4),
    '  plan:',
    indent(JSON.stringify(r.plan ?? {}, null, 2), 4),
  ];
  return lines.join('\n');
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}
