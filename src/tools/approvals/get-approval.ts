import { z } from 'zod';
import { defineTool, ToolError } from '../define-tool.js';

export const getApproval = defineTool({
  name: 'get_approval',
  title: 'Get approval',
  description: "An approval's status and, once approved, its single-use approval_token (requester only).",
  toolset: 'approvals',
  effect: 'read',
  risk: 'low',
  input: {
    approval_id: z.string().regex(/^apr_[0-9a-f]+$/, 'an id such as apr_1a2b3c4d5e6f7a8b'),
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
  },
  async run({ approval_id }, ctx) {
    const now = ctx.deps.clock.now().toISOString();
    await ctx.deps.store.expireApprovals(now);
    const r = await ctx.deps.store.getApproval(approval_id);
    if (!r)
      throw new ToolError(`approval_id: no approval request ${approval_id}`, 'not_found', 'approval_id');
    const approvers = r.decisions.filter((d) => d.decision === 'approve').map((d) => d.principal);
    // Only the principal that asked receives the token: it is their action that was approved.
    const showToken = r.status === 'approved' && r.requester === ctx.principal.id;
    return {
      approval_id: r.id,
      status: r.status,
      tool: r.tool,
      env: r.env,
      summary: r.summary,
      approvals: approvers.length,
      approvals_needed: r.policy.approvals_needed,
      approvers,
      expires_at: r.status === 'approved' && r.token_expires_at ? r.token_expires_at : r.expires_at,
      approval_token: showToken ? r.token : undefined,
      token_expires_at: showToken ? r.token_expires_at : undefined,
    };
  },
  render: (o) =>
    o.approval_token
      ? `${o.approval_id} approved by ${o.approvers.join(', ')}. Call ${o.tool} again with the same arguments and approval_token "${o.approval_token}" before ${o.token_expires_at}.`
      : `${o.approval_id} is ${o.status} (${o.approvals} of ${o.approvals_needed} approvals): ${o.summary}`,
});
