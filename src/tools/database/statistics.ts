/** Whether the planner's statistics for a table can be trusted. */
export type StatisticsState = 'missing' | 'stale' | 'fresh';

/**
 * `missing`: the table was never analyzed and holds at least the 50 rows autovacuum would analyze at; `stale`: the rows changed since the
 * last analyze by more than autovacuum's own trigger would let pass (50 rows plus 20%), or the
 * planner's estimate is off from the live count by more than a factor of two.
 */
export function statisticsState(t: {
  analyzed: boolean;
  live: number;
  modified: number;
  planner: number;
}): StatisticsState {
  if (!t.analyzed) return t.live >= 50 ? 'missing' : 'fresh';
  if (t.modified > 50 + 0.2 * t.live) return 'stale';
  if (t.live >= 50 && (t.planner * 2 < t.live || t.planner > t.live * 2 + 50)) return 'stale';
  return 'fresh';
}
