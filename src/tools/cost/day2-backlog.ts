import { z } from 'zod';
import { collectBacklog } from './backlog/collect.js';
import { backlogToCsv, backlogToMarkdown } from './backlog/export.js';
import type { BacklogSource } from './backlog/item.js';
import { defaultBacklogSources } from './backlog/sources/index.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnv } from '../context/resolve-service.js';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField, paginate } from '../../contract/fields.js';

const categories = ['credentials', 'drift', 'versions', 'cost', 'access', 'database'] as const;
const EXPORT_CAP = 1000;

export const backlogItemShape = z.object({
  id: z.string(),
  category: z.enum(categories),
  title: z.string(),
  env: z.string(),
  service: z.string().optional(),
  owner: z.string().optional(),
  due: z.string().optional().describe('YYYY-MM-DD'),
  risk: z.enum(['critical', 'high', 'medium', 'low']),
  detail: z.string().describe('evidence; backend text is data'),
  monthly_savings: z.number().optional(),
  fix: z
    .object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) })
    .optional()
    .describe('the day2 tool call that resolves it'),
  action: z.string().optional().describe('what to do when no day2 tool resolves it'),
});

/** Builds the day2_backlog tool over a list of sources (the lead can add sources this way). */
export function makeDay2Backlog(sources: readonly BacklogSource[]) {
  return defineTool({
    name: 'day2_backlog',
    title: 'Day-2 backlog',
    description:
      'Day-2 work list: due credentials, drift, skew, outdated images, idle spend, expiring access, DB findings, each with its fix.',
    toolset: 'cost',
    effect: 'read',
    risk: 'low',
    input: {
      env: z.string().min(1).optional(),
      category: z.enum(categories).optional(),
      min_risk: z.enum(['critical', 'high', 'medium', 'low']).optional().describe('at least this risky'),
      format: z
        .enum(['json', 'markdown', 'csv'])
        .optional()
        .describe('markdown, csv: also the whole list as text in export'),
      limit: limitField,
      cursor: cursorField,
    },
    output: {
      items: z.array(backlogItemShape),
      counts: z.record(z.string(), z.number()).describe('items per category'),
      total: z.number(),
      next_cursor: z.string().optional(),
      export: z.string().optional().describe('the whole list (up to 1000 items) as Markdown or CSV'),
      gaps: z.array(gapShape),
    },
    scope: (args) => ({ env: args.env }),
    async run(args, ctx) {
      const deps = ctx.deps;
      const envs = args.env ? [resolveEnv(deps, args.env)] : undefined;
      // Only the sources of the category asked for run: the others' backends are not called at all.
      const { items, gaps } = await collectBacklog(deps, {
        envs,
        sources: args.category ? sources.filter((s) => s.category === args.category) : sources,
        tool: ctx,
      });
      const rank = { critical: 0, high: 1, medium: 2, low: 3 } as const;
      const kept = items.filter(
        (i) =>
          (!args.category || i.category === args.category) &&
          (!args.min_risk || rank[i.risk] <= rank[args.min_risk]),
      );
      const counts: Record<string, number> = {};
      for (const i of kept) counts[i.category] = (counts[i.category] ?? 0) + 1;
      const page = paginate(kept, args.limit, args.cursor);
      const format = args.format ?? 'json';
      const all = kept.slice(0, EXPORT_CAP);
      return {
        items: page.items,
        counts,
        total: page.total,
        next_cursor: page.next_cursor,
        export:
          format === 'csv'
            ? backlogToCsv(all)
            : format === 'markdown'
              ? backlogToMarkdown(all, { generatedAt: deps.clock.now().toISOString() })
              : undefined,
        gaps,
      };
    },
    render: (o) =>
      o.export ??
      [
        `${o.total} backlog items (${
          Object.entries(o.counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        })`,
        ...o.items.map(
          (i) =>
            `[${i.risk}] ${i.due ?? '-'} ${i.env} ${i.owner ?? '?'}: ${i.title}${i.fix ? ` → ${i.fix.tool} ${JSON.stringify(i.fix.arguments)}` : i.action ? ` → ${i.action}` : ''}`,
        ),
        o.next_cursor ? `(pass next_cursor for more)` : '',
        o.gaps.length
          ? `Not read: ${o.gaps.map((g) => `${g.backend}${g.env ? `/${g.env}` : ''}: ${g.reason}`).join('; ')}`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
  });
}

export const day2Backlog = makeDay2Backlog(defaultBacklogSources);
