import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { countedApprovers } from '../../store/approval-state.js';
import { issueApprovalToken } from '../../guards/approvals.js';
import { approvalIdField } from '../../contract/fields.js';

export const getApproval = defineTool({
  name: 'get_approval',
  title: 'Get approval',
  description: "An approval's status and, once approved, its single-use approval_token (requester only).",
  toolset: 'approvals',
  effect: 'read',
  risk: 'low',
  input: {
    approval_id: approvalIdField,
  },
  output: {
    approval_id: z.string(),
    status: z.enum(['pending', 'approved', 'consumed', 'denied', 'expired']),
    tool: z.string(),
    env: z.string(),
    summary: z.string(),
    approvals: z.number(),
    approvals_needed: z.number(),
    approvers: z.array(z.string()),
    expires_at: z.string(),
    approval_token: z.string().optional(),
    token_expires_at: z.string().optional(),
    token_issued_at: z
      .string()
      .optional()
      .describe('when the single-use token was handed out; it is shown only that once'),
  },
  async run({ approval_id }, ctx) {
    const now = ctx.deps.clock.now().toISOString();
    await ctx.deps.store.expireApprovals(now);
    const r = await ctx.deps.store.getApproval(approval_id);
    if (!r)
      throw new ToolError(`approval_id: no approval request ${approval_id}`, 'not_found', 'approval_id');
    const approvers = countedApprovers(r);
    // Only the principal that asked receives the token, and only once: the store keeps its hash.
    const issue = await issueApprovalToken(ctx.deps.store, r, ctx.principal.id, ctx.deps.clock.now());
    const current = issue.request;
    return {
      approval_id: current.id,
      status: current.status,
      tool: current.tool,
      env: current.env,
      summary: current.summary,
      approvals: approvers.length,
      approvals_needed: current.policy.approvals_needed,
      approvers,
      expires_at:
        current.status === 'approved' && current.token_expires_at
          ? current.token_expires_at
          : current.expires_at,
      approval_token: issue.issued ? issue.token : undefined,
      token_expires_at: current.status === 'approved' ? current.token_expires_at : undefined,
      token_issued_at: current.token_issued_at,
    };
  },
  render: (o) =>
    o.approval_token
      ? `${o.approval_id} approved by ${o.approvers.join(', ')}. Call ${o.tool} again with the same arguments and approval_token "${o.approval_token}" before ${o.token_expires_at}. This token is shown only this once: keep it for that call.`
      : `${o.approval_id} is ${o.status} (${o.approvals} of ${o.approvals_needed} approvals): ${o.summary}` +
        (o.status === 'approved' && o.token_issued_at
          ? `\nIts single-use token was already issued at ${o.token_issued_at} and is never shown again. If it is lost, call ${o.tool} again without approval_token for a new approval request.`
          : ''),
});
