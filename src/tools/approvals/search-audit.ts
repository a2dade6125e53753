import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField, DEFAULT_LIMIT, CursorError } from '../../contract/fields.js';

const entry = z.object({
  seq: z.number(),
  ts: z.string(),
  event: z.string(),
  principal: z.string().optional(),
  tool: z.string().optional(),
  env: z.string().optional(),
  service: z.string().optional(),
  decision: z.string().optional(),
  ok: z.boolean().optional(),
  error: z.string().optional(),
});

export const searchAudit = defineTool({
  name: 'search_audit',
  title: 'Search audit log',
  description: 'Audit log, newest first: who did what, where, and the outcome.',
  toolset: 'approvals',
  effect: 'read',
  risk: 'low',
  input: {
    tool: z.string().optional(),
    env: z.string().optional(),
    service: z.string().optional(),
    principal: z.string().optional(),
    event: z.string().optional().describe('e.g. tool.execute, approval.approved'),
    since: z.string().datetime({ offset: true }).optional(),
    limit: limitField,
    cursor: cursorField,
  },
  output: { entries: z.array(entry), next_cursor: z.string().optional() },
  async run(args, ctx) {
    const limit = args.limit ?? DEFAULT_LIMIT;
    let beforeSeq: number | undefined;
    if (args.cursor) {
      const m = /^s:(\d+)$/.exec(Buffer.from(args.cursor, 'base64url').toString());
      if (!m) throw new CursorError();
      beforeSeq = Number(m[1]);
    }
    // Records name services by catalog id; a name the catalog no longer knows may still be in history.
    const resolver = ctx.deps.catalog.resolver;
    const known = args.service === undefined ? undefined : resolver.findEntity(args.service, args.env)?.id;
    const rows = await ctx.deps.store.queryAudit({
      tool: args.tool,
      env: args.env,
      service: known ?? args.service,
      principal: args.principal,
      event: args.event,
      since: args.since,
      beforeSeq,
      limit: limit + 1,
      desc: true,
    });
    if (args.service !== undefined && known === undefined && rows.length === 0 && !args.cursor)
      throw resolver.refuse(args.service, 'service', { env: args.env });
    const page = rows.slice(0, limit);
    const entries = page.map((r) => {
      const rec = JSON.parse(r.record) as Record<string, unknown> & {
        policy?: { decision?: string };
        outcome?: { ok?: boolean; error?: string };
      };
      return {
        seq: r.seq,
        ts: r.ts,
        event: String(rec.event),
        principal: rec.principal as string | undefined,
        tool: rec.tool as string | undefined,
        env: rec.env as string | undefined,
        service: rec.service as string | undefined,
        decision: rec.policy?.decision,
        ok: rec.outcome?.ok,
        error: rec.outcome?.error,
      };
    });
    const last = page.at(-1);
    return {
      entries,
      next_cursor:
        rows.length > limit && last ? Buffer.from(`s:${last.seq}`).toString('base64url') : undefined,
    };
  },
  render: (o) =>
    o.entries.length === 0
      ? 'No audit entries match.'
      : o.entries
          .map(
            (e) =>
              `#${e.seq} ${e.ts} ${e.event} ${e.tool ?? ''} ${e.env ?? ''} by ${e.principal ?? '?'}${e.ok === false ? ` FAILED ${e.error ?? ''}` : ''}`,
          )
          .join('\n') + (o.next_cursor ? '\n(more: pass next_cursor)' : ''),
});
