import { defineResource } from '../contract/define-resource.js';
import { capList } from '../contract/pages.js';

/** Requests listed; a backlog larger than this is a problem of its own, and total says so. */
const CAP = 50;

export const approvalsPending = defineResource({
  uri: 'day2://approvals/pending',
  name: 'approvals-pending',
  title: 'Pending approvals',
  description: 'Approval requests waiting for a human, with their summaries and expiry.',
  mimeType: 'application/json',
  async read(ctx) {
    await ctx.deps.store.expireApprovals(ctx.deps.clock.now().toISOString());
    const pending = await ctx.deps.store.listApprovals({ status: 'pending', limit: 1000 });
    return {
      json: capList(
        'pending',
        pending.map((r) => ({
          approval_id: r.id,
          tool: r.tool,
          env: r.env,
          service: r.service,
          summary: r.summary,
          requester: r.requester,
          approvals: r.decisions.filter((d) => d.decision === 'approve').length,
          approvals_needed: r.policy.approvals_needed,
          expires_at: r.expires_at,
          approve_with: `day2 approve ${r.id}`,
        })),
        CAP,
      ),
    };
  },
});
