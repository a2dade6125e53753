import type { Deps } from '../../contract/deps.js';
import type { Gap } from '../context/gather.js';
import { changesFrom, readChangeSources } from '../context/changes/ledger.js';
import { day2Actions } from '../context/changes/day2-writes.js';
import { IncidentRecords } from './incident-record.js';
import { computeMetrics, type Day2Metrics, type ExternalChange } from './metrics.js';

export const METRICS_WINDOW_MS = 30 * 86_400_000;
export const CHANGE_FAILURE_WINDOW_MS = 60 * 60_000;

/** Reads incidents, day2's audited writes and the backends' own change history, then computes the metrics. */
export async function collectMetrics(
  deps: Deps,
  windowMs = METRICS_WINDOW_MS,
): Promise<Day2Metrics & { gaps: Gap[] }> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - windowMs).toISOString();
  const [incidents, actions] = await Promise.all([
    new IncidentRecords(deps.store).list(),
    day2Actions(deps.store, { since, limit: 5000 }),
  ]);
  const { external, gaps } = await externalChanges(deps, since, now.toISOString());
  return {
    ...computeMetrics({
      incidents,
      actions,
      external,
      now,
      windowMs,
      failureWindowMs: CHANGE_FAILURE_WINDOW_MS,
    }),
    gaps,
  };
}

/**
 * Changes made outside day2 in every environment, read from the change ledger: a rollout that
 * carries a day2 write's digest, or a silence or downtime day2 created, is day2's and not counted
 * here, by the same rules list_changes applies, not by closeness in time.
 */
async function externalChanges(
  deps: Deps,
  since: string,
  until: string,
): Promise<{ external: ExternalChange[]; gaps: Gap[] }> {
  const kinds = ['rollout', 'silence', 'downtime'] as const;
  const perEnv = await Promise.all(
    Object.keys(deps.config.environments).map(async (env) => {
      const q = { env, since, until, kinds };
      const { sources, gaps } = await readChangeSources(deps, q);
      return { changes: changesFrom(deps, q, sources), gaps };
    }),
  );
  const seen = new Set<string>();
  const external: ExternalChange[] = [];
  for (const c of perEnv.flatMap((p) => p.changes)) {
    // One Alertmanager or Datadog org can serve several environments: count each object once.
    if (c.day2 || seen.has(c.id)) continue;
    seen.add(c.id);
    external.push({
      at: c.at ?? new Date(c.sortAt).toISOString(),
      env: c.env,
      ...(c.service ? { service: c.service } : {}),
      kind: c.kind as ExternalChange['kind'],
    });
  }
  return { external, gaps: perEnv.flatMap((p) => p.gaps) };
}
