import type { Deps } from '../../../contract/deps.js';
import { gapReason, type Gap } from '../../context/gather.js';
import type { ToolContext } from '../../../contract/define-tool.js';
import { quarterEnd, RISK_ORDER, type BacklogItem, type BacklogSource } from './item.js';
import { defaultBacklogSources } from './sources/index.js';

/**
 * Runs every source over `envs` and merges their items: riskiest first, then soonest due.
 * A source that fails is reported as a gap; the rest of the backlog still comes back.
 */
export async function collectBacklog(
  deps: Deps,
  opts: { envs?: string[]; sources?: readonly BacklogSource[]; tool?: ToolContext } = {},
): Promise<{ items: BacklogItem[]; gaps: Gap[] }> {
  const now = deps.clock.now();
  const envs = opts.envs ?? Object.keys(deps.config.environments);
  const ctx = { deps, envs, now, quarterEnd: quarterEnd(now), tool: opts.tool };
  const settled = await Promise.all(
    (opts.sources ?? defaultBacklogSources).map(async (s) => {
      try {
        return await s.collect(ctx);
      } catch (err) {
        deps.log.warn('backlog source failed', { source: s.name, error: err });
        return { items: [], gaps: [{ backend: s.name, reason: gapReason(err) }] };
      }
    }),
  );
  const seen = new Set<string>();
  const items: BacklogItem[] = [];
  for (const s of settled)
    for (const i of s.items)
      if (!seen.has(i.id)) {
        seen.add(i.id);
        items.push(i);
      }
  items.sort(
    (a, b) =>
      RISK_ORDER[a.risk] - RISK_ORDER[b.risk] ||
      (a.due ?? '9999').localeCompare(b.due ?? '9999') ||
      (b.monthly_savings ?? 0) - (a.monthly_savings ?? 0) ||
      a.id.localeCompare(b.id),
  );
  return { items, gaps: settled.flatMap((s) => s.gaps) };
}
