import { collectBacklog } from '../tools/cost/backlog/collect.js';
import type { BacklogSource } from '../tools/cost/backlog/item.js';
import { defaultBacklogSources } from '../tools/cost/backlog/sources/index.js';
import { defineResource, type StaticResource } from '../contract/define-resource.js';

const CAP = 200;

/** Builds day2://backlog over a list of sources. */
export function makeBacklogResource(sources: readonly BacklogSource[]): StaticResource {
  return defineResource({
    uri: 'day2://backlog',
    name: 'backlog',
    title: 'Day-2 backlog',
    description:
      'Day-2 work across every environment, riskiest first: credentials due this quarter, drift, version skew and outdated images, idle resources, expiring access, database findings; each with owner, due date, risk and the tool call that resolves it. The day2_backlog tool filters and exports it as Markdown or CSV.',
    mimeType: 'application/json',
    async read(ctx) {
      const { items, gaps } = await collectBacklog(ctx.deps, { sources });
      return {
        json: {
          generated_at: ctx.deps.clock.now().toISOString(),
          total: items.length,
          items: items.slice(0, CAP),
          truncated: items.length > CAP,
          gaps,
        },
      };
    },
  });
}

export const backlogResource = makeBacklogResource(defaultBacklogSources);
