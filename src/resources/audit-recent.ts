import { defineResource, type ResourceContext } from '../contract/define-resource.js';

const RECENT = 50;

async function recentRecords(ctx: ResourceContext, withReads: boolean) {
  const rows = await ctx.deps.store.queryAudit({
    limit: RECENT,
    desc: true,
    ...(withReads ? {} : { excludeEvent: 'resource.read' }),
  });
  return {
    json: {
      records: rows.map((r) => ({
        seq: r.seq,
        hash: r.hash.slice(0, 16),
        ...(JSON.parse(r.record) as object),
      })),
      ...(withReads ? {} : { resource_reads: 'left out; day2://audit/recent/all has them' }),
    },
  };
}

export const auditRecent = defineResource({
  uri: 'day2://audit/recent',
  name: 'audit-recent',
  title: 'Recent audit records',
  description:
    'The 50 newest audit records of tool calls and approvals (arguments redacted), newest first; resource reads are left out (day2://audit/recent/all has them). The search_audit tool reads the log one action per line.',
  mimeType: 'application/json',
  read: (ctx) => recentRecords(ctx, false),
});

export const auditRecentAll = defineResource({
  uri: 'day2://audit/recent/all',
  // The same name as day2://audit/recent: policy matches a resource by name, and a rule that
  // keeps someone from the audit log must keep them from both.
  name: 'audit-recent',
  title: 'Recent audit records, resource reads included',
  description: 'The 50 newest audit records of every kind, resource reads included, newest first.',
  mimeType: 'application/json',
  read: (ctx) => recentRecords(ctx, true),
});
