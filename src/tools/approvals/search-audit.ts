import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField, DEFAULT_LIMIT, CursorError } from '../../contract/fields.js';
import { fitText } from '../../contract/text-budget.js';
import { ACTION_OUTCOMES, auditActions, type AuditAction } from './audit-actions.js';

const action = z.object({
  seq: z.number(),
  when: z.string(),
  tool: z.string(),
  env: z.string().optional(),
  target: z.string().optional(),
  requester: z.string().optional(),
  approvers: z.array(z.string()),
  outcome: z.enum(ACTION_OUTCOMES),
  detail: z.string(),
  summary: z.string(),
  approval_id: z.string().optional(),
});

export const searchAudit = defineTool({
  name: 'search_audit',
  title: 'Search audit log',
  description: 'One line per day2 action, newest first: target, requester, approvers, outcome.',
  toolset: 'approvals',
  effect: 'read',
  risk: 'low',
  input: {
    tool: z.string().optional(),
    env: z.string().optional(),
    service: z.string().optional(),
    principal: z.string().optional(),
    outcome: z.enum(ACTION_OUTCOMES).optional(),
    since: z.string().datetime({ offset: true }).optional(),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    actions: z.array(action),
    next_cursor: z.string().optional(),
    note: z.string().optional(),
  },
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
    const found = await auditActions(ctx.deps.store, {
      tool: args.tool,
      env: args.env,
      service: known ?? args.service,
      principal: args.principal,
      since: args.since,
      outcome: args.outcome,
      beforeSeq,
      limit,
    });
    if (args.service !== undefined && known === undefined && found.actions.length === 0 && !args.cursor)
      throw resolver.refuse(args.service, 'service', { env: args.env });
    const resumeAt = found.scannedTo ?? found.actions.at(-1)?.seq;
    const next_cursor =
      found.more && resumeAt !== undefined ? Buffer.from(`s:${resumeAt}`).toString('base64url') : undefined;
    return {
      actions: found.actions,
      next_cursor,
      note: found.scannedTo
        ? `stopped after reading the audit log back to record ${found.scannedTo}; older actions may match: pass next_cursor`
        : undefined,
    };
  },
  render: (o) =>
    fitText(
      [o.actions.length === 0 ? 'No actions match.' : `${o.actions.length} actions, newest first:`],
      o.actions.map(actionLine),
      [
        o.note ?? '',
        o.next_cursor
          ? `More: call search_audit again with the same filters and cursor "${o.next_cursor}".`
          : '',
      ],
      (n) =>
        `(${n} more lines of this page are in structuredContent.actions; ask for a smaller limit to read them as text)`,
    ),
});

/** One action in one line: when, tool, env and target, who asked, who approved, what came of it. */
export function actionLine(a: AuditAction): string {
  const where = [a.env, a.target].filter(Boolean).join(' ');
  const approved = a.approvers.length ? `, approved by ${a.approvers.join(', ')}` : '';
  const id = a.approval_id ? ` [${a.approval_id}]` : '';
  const summary = a.summary
    ? ` — ${a.summary.length > 200 ? `${a.summary.slice(0, 197)}...` : a.summary}`
    : '';
  return `${a.when} ${a.tool}${where ? ` ${where}` : ''} by ${a.requester ?? '?'}${approved}: ${a.outcome.toUpperCase()} (${a.detail})${id}${summary}`;
}
