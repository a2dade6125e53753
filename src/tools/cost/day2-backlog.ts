import { z } from 'zod';
import { collectBacklog } from './backlog/collect.js';
import { backlogToCsv, backlogToMarkdown } from './backlog/export.js';
import type { BacklogSource } from './backlog/item.js';
import { defaultBacklogSources } from './backlog/sources/index.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnv } from '../context/resolve-service.js';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, callText } from '../../contract/answer-text.js';
import { backlogLine, filterBacklog, groupBacklog } from './backlog/summary.js';

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

const groupShape = z.object({
  category: z.enum(categories),
  count: z.number(),
  by_risk: z.record(z.string(), z.number()),
  monthly_savings: z.number().optional(),
  top: z.array(backlogItemShape).describe('its riskiest, soonest-due items'),
});

/** Items shown per category in the summary. */
const TOP_PER_CATEGORY = 3;

/** Builds the day2_backlog tool over a list of sources (the lead can add sources this way). */
export function makeDay2Backlog(sources: readonly BacklogSource[]) {
  return defineTool({
    name: 'day2_backlog',
    title: 'Day-2 backlog',
    description:
      'Day-2 work: due credentials, drift, skew, old images, idle spend, expiring access, DB findings; summary first, with fixes.',
    toolset: 'cost',
    effect: 'read',
    risk: 'low',
    input: {
      env: z.string().min(1).optional(),
      category: z.enum(categories).optional(),
      min_risk: z.enum(['critical', 'high', 'medium', 'low']).optional().describe('at least this risky'),
      due_before: z.iso.date().optional(),
      owner: z.string().min(1).optional(),
      format: z
        .enum(['summary', 'items', 'csv', 'markdown'])
        .optional()
        .meta({ default: 'summary' })
        .describe(`items: pages; csv, markdown: the list attached (up to ${EXPORT_CAP} items)`),
      limit: limitField,
      cursor: cursorField,
    },
    output: {
      total: z.number(),
      counts: z.record(z.string(), z.number()).describe('items per category'),
      groups: z.array(groupShape).optional().describe('summary: per category'),
      items: z.array(backlogItemShape).optional().describe('items: one page'),
      next_cursor: z.string().optional(),
      export: z
        .object({
          uri: z.string(),
          mime_type: z.string(),
          items: z.number(),
          truncated: z.boolean().describe(`more than ${EXPORT_CAP} items: the riskiest ${EXPORT_CAP}`),
        })
        .optional()
        .describe('the list attached to the result as an embedded resource'),
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
      const kept = filterBacklog(items, args);
      const counts: Record<string, number> = {};
      for (const i of kept) counts[i.category] = (counts[i.category] ?? 0) + 1;
      const format = args.format ?? 'summary';
      if (format === 'items') {
        const page = pageOf(kept, args);
        return { total: page.total, counts, items: page.items, next_cursor: page.next_cursor, gaps };
      }
      const out = { total: kept.length, counts, groups: groupBacklog(kept, TOP_PER_CATEGORY), gaps };
      if (format === 'summary') return out;
      // The export goes beside the structured output, not into it: a planner's file is not carried twice.
      const all = kept.slice(0, EXPORT_CAP);
      const csv = format === 'csv';
      const uri = `day2://backlog/export.${csv ? 'csv' : 'md'}`;
      const mimeType = csv ? 'text/csv' : 'text/markdown';
      ctx.attach?.({
        uri,
        mimeType,
        text: csv
          ? backlogToCsv(all)
          : backlogToMarkdown(all, { generatedAt: deps.clock.now().toISOString() }),
      });
      return {
        ...out,
        export: { uri, mime_type: mimeType, items: all.length, truncated: kept.length > all.length },
      };
    },
    render: (o, args) => {
      // The calls this text offers keep the caller's filters: their counts are of the same list.
      const { cursor: _cursor, format: _format, ...filters } = args;
      const counts =
        Object.entries(o.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none';
      const notRead = o.gaps.length
        ? `Not read (the backlog may miss items there): ${o.gaps.map((g) => `${g.backend}${g.env ? `/${g.env}` : ''}: ${g.reason}`).join('; ')}`
        : '';
      if (o.items) {
        const shown = o.items.map(backlogLine);
        return answerText({
          head: [`${o.total} backlog items (${counts}); this page has ${o.items.length}, riskiest first:`],
          rows: shown,
          tail: [
            o.next_cursor &&
              `More: ${callText('day2_backlog', { ...filters, format: 'items', cursor: o.next_cursor })}`,
            notRead,
          ],
          leftOut: (n) =>
            `(${n} more items of this page are in structuredContent.items; ask for a smaller limit)`,
        });
      }
      const lines: string[] = [];
      for (const g of o.groups ?? []) {
        const risks = Object.entries(g.by_risk)
          .map(([r, n]) => `${n} ${r}`)
          .join(', ');
        const savings = g.monthly_savings ? `, saves ${g.monthly_savings.toFixed(2)}/month` : '';
        lines.push(`${g.category}: ${g.count} (${risks}${savings})`);
        lines.push(...g.top.map((i) => `  ${backlogLine(i)}`));
        if (g.count > g.top.length)
          lines.push(
            `  ${g.count - g.top.length} more: ${callText('day2_backlog', { ...filters, category: g.category, format: 'items' })}`,
          );
      }
      return answerText({
        head: [
          `${o.total} backlog items (${counts}); the riskiest per category, each with the call that fixes it:`,
        ],
        rows: lines,
        tail: [
          o.export
            ? o.export.truncated
              ? `The riskiest ${o.export.items} of the ${o.total} items are attached as ${o.export.mime_type} (${o.export.uri}); narrow with category, env, owner or due_before for the rest.`
              : `The whole list (${o.export.items} items) is attached as ${o.export.mime_type} (${o.export.uri}).`
            : 'Every item: format "items" (paged); a file for a planner: format "csv" or "markdown".',
          notRead,
        ],
        leftOut: (n) => `(${n} lines left out to stay short; narrow with category, env, owner or due_before)`,
      });
    },
  });
}

export const day2Backlog = makeDay2Backlog(defaultBacklogSources);
