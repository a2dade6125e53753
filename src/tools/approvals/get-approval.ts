import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { awaitApprovalDecision, MAX_APPROVAL_WAIT_MS } from '../../guards/approval-wait.js';
import { countedApprovers } from '../../store/approval-state.js';
import { issueApprovalToken } from '../../guards/approvals.js';
import { approvalIdField } from '../../contract/fields.js';

export const getApproval = defineTool({
  name: 'get_approval',
  title: 'Get approval',
  description: "An approval's status; waits up to wait_s s for a decision.",
  toolset: 'approvals',
  effect: 'read',
  risk: 'low',
  input: {
    approval_id: approvalIdField,
    wait_s: z.number().int().min(0).max(60).optional(),
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
  async run({ approval_id, wait_s }, ctx) {
    if (wait_s) await awaitApprovalDecision(ctx.deps.store, ctx.deps.clock, approval_id, wait_s, ctx);
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
  render: (o) => {
    const redeem = `call ${o.tool} again with the same arguments plus "approval_id":"${o.approval_id}"`;
    if (o.approval_token)
      return `${o.approval_id} approved by ${o.approvers.join(', ')}. Next: ${redeem} before ${o.token_expires_at}. Its single-use approval_token, for another process of yours, is shown only this once: ${o.approval_token}`;
    const head = `${o.approval_id} is ${o.status} (${o.approvals} of ${o.approvals_needed} approvals): ${o.summary}`;
    if (o.status === 'pending')
      return `${head}\nOnce approved, ${redeem}; get_approval with wait_s waits for the decision (up to ${MAX_APPROVAL_WAIT_MS / 1000} s a call).`;
    if (o.status === 'approved')
      return `${head}\nIts requester may now ${redeem} before ${o.token_expires_at}.${o.token_issued_at ? ` Its single-use token was already issued at ${o.token_issued_at} and is never shown again.` : ''}`;
    return head;
  },
});
