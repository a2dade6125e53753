import { collectBacklog } from '../tools/cost/backlog/collect.js';
import type { BacklogSource } from '../tools/cost/backlog/item.js';
import { groupBacklog } from '../tools/cost/backlog/summary.js';
import { defaultBacklogSources } from '../tools/cost/backlog/sources/index.js';
import { defineResource, type StaticResource } from '../contract/define-resource.js';

/** The most the resource returns: a summary a client can read whole. */
export const BACKLOG_RESOURCE_BYTES = 16 * 1024;
const TOP = 5;

/** Builds day2://backlog over a list of sources. */
export function makeBacklogResource(sources: readonly BacklogSource[]): StaticResource {
  return defineResource({
    uri: 'day2://backlog',
    name: 'backlog',
    title: 'Day-2 backlog',
    description:
      'Day-2 work across every environment, summarised per category (credentials due this quarter, drift, version skew and outdated images, idle resources, expiring access, database findings): counts by risk and the riskiest items, each with owner, due date and the tool call that resolves it. The day2_backlog tool pages every item, filters, and exports Markdown or CSV.',
    mimeType: 'application/json',
    async read(ctx) {
      const { items, gaps } = await collectBacklog(ctx.deps, { sources });
      const counts: Record<string, number> = {};
      for (const i of items) counts[i.category] = (counts[i.category] ?? 0) + 1;
      // Fewer items per category until the summary fits: the counts and the gaps always stay.
      for (let top = TOP; ; top--) {
        const json = {
          generated_at: ctx.deps.clock.now().toISOString(),
          total: items.length,
          counts,
          groups: groupBacklog(items, top),
          more: 'every item: the day2_backlog tool with format "items" (paged), or "csv"/"markdown"',
          gaps,
        };
        if (top === 0 || Buffer.byteLength(JSON.stringify(json)) <= BACKLOG_RESOURCE_BYTES) return { json };
      }
    },
  });
}

export const backlogResource = makeBacklogResource(defaultBacklogSources);
