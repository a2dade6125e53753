import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField, DEFAULT_LIMIT } from '../../contract/fields.js';
import { decodeCursor, encodeCursor } from '../../contract/pages.js';
import { answerText, callText } from '../../contract/answer-text.js';
import { ACTION_OUTCOMES, auditActions, countActions, type AuditAction } from './audit-actions.js';

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
    /** Matching actions in the log as it stood when the first page was read. */
    total: z.number().optional(),
    /** With an outcome over more candidates than are joined to count: the most there can be. */
    total_at_most: z.number().optional(),
    /** The last record of the log the pages read: the next page continues in the same log. */
    as_of_seq: z.number(),
    /** How many matching actions the pages before this one held. */
    offset: z.number(),
    next_cursor: z.string().optional(),
    note: z.string().optional(),
  },
  async run(args, ctx) {
    const limit = args.limit ?? DEFAULT_LIMIT;
    const store = ctx.deps.store;
    // A cursor continues one reading of the log: where it stopped, the head it read from, and the
    // total it found there. Actions appended since are on a new first page, not in the middle of this.
    const at = args.cursor ? decodeCursor(args.cursor, args, positionOf) : undefined;
    // Records name services by catalog id; a name the catalog no longer knows may still be in history.
    const resolver = ctx.deps.catalog.resolver;
    const known = args.service === undefined ? undefined : resolver.findEntity(args.service, args.env)?.id;
    const query = {
      tool: args.tool,
      env: args.env,
      service: known ?? args.service,
      principal: args.principal,
      since: args.since,
      outcome: args.outcome,
    };
    const found = await auditActions(store, { ...query, top: at?.top, beforeSeq: at?.before, limit });
    const top = at?.top ?? found.head ?? 0;
    // A first page that holds every match is its own count; else the log is counted once, and
    // the cursor carries the count on.
    const counted =
      at?.counted ??
      (found.more ? await countActions(store, { ...query, top }) : { total: found.actions.length });
    if (args.service !== undefined && known === undefined && found.actions.length === 0 && !args.cursor)
      throw resolver.refuse(args.service, 'service', { env: args.env });
    const resumeAt = found.scannedTo ?? found.actions.at(-1)?.seq;
    const next_cursor =
      found.more && resumeAt !== undefined
        ? encodeCursor(
            {
              b: resumeAt,
              t: top,
              s: (at?.shown ?? 0) + found.actions.length,
              ...('total' in counted ? { n: counted.total } : { m: counted.atMost }),
            },
            args,
          )
        : undefined;
    return {
      actions: found.actions,
      ...('total' in counted ? { total: counted.total } : { total_at_most: counted.atMost }),
      as_of_seq: top,
      offset: at?.shown ?? 0,
      next_cursor,
      note: found.scannedTo
        ? `stopped after reading the audit log back to record ${found.scannedTo}; older actions may match: pass next_cursor`
        : undefined,
    };
  },
  render: (o, args) =>
    answerText({
      head: [headline(o)],
      rows: o.actions.map(actionLine),
      tail: [
        o.note,
        o.next_cursor && `More: ${callText('search_audit', { ...args, cursor: o.next_cursor })}`,
      ],
      leftOut: (n) =>
        `(${n} more lines of this page are in structuredContent.actions; ask for a smaller limit to read them as text)`,
    }),
});

/** The page's first line: how many of how many, and up to which record of the log. */
function headline(o: {
  actions: unknown[];
  total?: number;
  total_at_most?: number;
  as_of_seq: number;
  offset: number;
}): string {
  const all =
    o.total !== undefined ? `${o.total}` : o.total_at_most !== undefined ? `at most ${o.total_at_most}` : '?';
  if (o.actions.length === 0)
    return o.total === 0
      ? 'No actions match.'
      : `No actions on this page (${all} match up to record ${o.as_of_seq}).`;
  const last = o.offset + o.actions.length;
  const which =
    o.offset === 0 && o.actions.length === o.total
      ? `All ${o.total} actions`
      : o.actions.length === 1
        ? `Action ${last} of ${all}`
        : `Actions ${o.offset + 1}–${last} of ${all}`;
  return `${which} up to audit record ${o.as_of_seq}, newest first:`;
}

/** Where a search_audit cursor continues, and what the first page counted. */
function positionOf(p: Record<string, unknown>) {
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const before = int(p.b);
  const top = int(p.t);
  const n = int(p.n);
  const m = int(p.m);
  const shown = int(p.s);
  if (
    before === undefined ||
    top === undefined ||
    shown === undefined ||
    (n === undefined) === (m === undefined)
  )
    return undefined;
  return { before, top, shown, counted: n !== undefined ? { total: n } : { atMost: m! } };
}

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
