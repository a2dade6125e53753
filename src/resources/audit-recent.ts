import { defineResource } from '../contract/define-resource.js';

export const auditRecent = defineResource({
  uri: 'day2://audit/recent',
  name: 'audit-recent',
  title: 'Recent audit records',
  description: 'The 50 newest audit records (arguments redacted), newest first.',
  mimeType: 'application/json',
  async read(ctx) {
    const rows = await ctx.deps.store.queryAudit({ limit: 50, desc: true });
    return {
      json: {
        records: rows.map((r) => ({
          seq: r.seq,
          hash: r.hash.slice(0, 16),
          ...(JSON.parse(r.record) as object),
        })),
      },
    };
  },
});
