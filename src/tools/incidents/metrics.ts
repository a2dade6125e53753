import type { Day2Action } from '../context/changes/day2-writes.js';
import type { IncidentRecord } from './incident-record.js';

/** A change to a production system that day2 did not make (seen in a backend's own history). */
export interface ExternalChange {
  at: string;
  env: string;
  service?: string;
  kind: 'rollout' | 'silence' | 'downtime';
}

export interface MetricsInput {
  incidents: IncidentRecord[];
  /** day2's writes in the window (audit log). */
  actions: Day2Action[];
  /** Day-2 changes made outside day2 in the window. */
  external: ExternalChange[];
  now: Date;
  windowMs: number;
  /** How soon after a change an incident on the same service counts as caused by it. */
  failureWindowMs: number;
}

export interface Metric {
  value: number | null;
  unit: string;
  definition: string;
  /** How many observations the value rests on. */
  sample: number;
}

/** A day2 write as the change failure rate counted it. */
export interface CountedChange {
  at: string;
  tool: string;
  env?: string;
  service?: string;
  /** The incident it caused (a failure) or remediated (a rollback). */
  incident?: string;
}

/** The changes a rate rests on, newest first, at most this many of each list. */
export const LISTED_CHANGES = 50;

export interface Day2Metrics {
  window: { since: string; until: string };
  mttr: Metric;
  mean_time_between_incidents: Metric;
  change_failure_rate: Metric & {
    /** The changes counted (failed ones name their incident). */
    changes: CountedChange[];
    failed: number;
    /** Rollbacks that remediated an incident: fixes, counted neither as changes nor as failures. */
    remediations: CountedChange[];
  };
  self_service_share: Metric;
  proactive_share: Metric & { proactive: number; reactive: number };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Writes that undo a change: one of them during an incident is its remedy. */
const REMEDIES = new Set(['rollback_deployment']);

function newest(list: CountedChange[]): CountedChange[] {
  return [...list].sort((a, b) => b.at.localeCompare(a.at)).slice(0, LISTED_CHANGES);
}

/** DORA-style operations metrics over day2's incident records and audit log (pure). */
export function computeMetrics(m: MetricsInput): Day2Metrics {
  const until = m.now.getTime();
  const since = until - m.windowMs;
  const inWindow = (iso: string | undefined) =>
    iso !== undefined && Date.parse(iso) >= since && Date.parse(iso) <= until;
  const minutesLabel = `${Math.round(m.failureWindowMs / 60_000)} min`;

  const resolved = m.incidents.filter((i) => i.status === 'resolved' && inWindow(i.resolved_at));
  const repair = resolved.map((i) => (Date.parse(i.resolved_at!) - Date.parse(i.detected_at)) / 60_000);

  const opened = m.incidents
    .filter((i) => inWindow(i.opened_at))
    .map((i) => Date.parse(i.opened_at))
    .sort((a, b) => a - b);
  const gaps = opened.slice(1).map((t, i) => (t - opened[i]!) / 3_600_000);

  const writes = m.actions.filter((a) => a.ok === true && inWindow(a.at));
  const sameTarget = (a: Day2Action, i: IncidentRecord) => i.service === a.service && i.env === a.env;
  // A rollback on an incident's service from shortly before its detection (the operator saw the
  // problem before the incident was opened) until its resolution is its remedy, not a change
  // that failed.
  const remedied = (a: Day2Action) =>
    REMEDIES.has(a.tool)
      ? m.incidents.find((i) => {
          const t = Date.parse(a.at);
          return (
            sameTarget(a, i) &&
            t >= Date.parse(i.detected_at) - m.failureWindowMs &&
            t <= Date.parse(i.resolved_at ?? m.now.toISOString())
          );
        })
      : undefined;
  // Detection is the first alert's onset, else the opening: an incident already under way is not caused by the change.
  const caused = (a: Day2Action) => {
    const t0 = Date.parse(a.at);
    return m.incidents.find((i) => {
      const t = Date.parse(i.detected_at);
      return sameTarget(a, i) && t > t0 && t - t0 <= m.failureWindowMs;
    });
  };
  const remediations: CountedChange[] = [];
  const changes: CountedChange[] = [];
  let failedCount = 0;
  for (const a of writes) {
    const view = { at: a.at, tool: a.tool, env: a.env, service: a.service };
    const remedy = remedied(a);
    if (remedy) {
      remediations.push({ ...view, incident: remedy.id });
      continue;
    }
    const cause = caused(a);
    if (cause) failedCount++;
    changes.push(cause ? { ...view, incident: cause.id } : view);
  }

  const external = m.external.filter((e) => inWindow(e.at));
  const day2Count = writes.length;
  const total = day2Count + external.length;

  const reactive = writes.filter((a) =>
    m.incidents.some(
      (i) =>
        i.service === a.service &&
        i.env === a.env &&
        Date.parse(a.at) >= Date.parse(i.detected_at) &&
        Date.parse(a.at) <= Date.parse(i.resolved_at ?? m.now.toISOString()),
    ),
  ).length;

  return {
    window: { since: new Date(since).toISOString(), until: m.now.toISOString() },
    mttr: {
      value: repair.length ? round(repair.reduce((s, x) => s + x, 0) / repair.length) : null,
      unit: 'minutes',
      definition:
        "mean time to restore: mean of (resolved_at − detected_at) over incidents resolved in the window; detected_at is the time given to open_incident, else the first alert's onset, else the opening time",
      sample: repair.length,
    },
    mean_time_between_incidents: {
      value: gaps.length ? round(gaps.reduce((s, x) => s + x, 0) / gaps.length) : null,
      unit: 'hours',
      definition:
        'mean gap between the opening times of consecutive incidents opened in the window (all services)',
      sample: gaps.length,
    },
    change_failure_rate: {
      value: changes.length ? round(failedCount / changes.length) : null,
      unit: 'ratio',
      definition: `share of successful day2 writes in the window followed, within ${minutesLabel}, by the detection of an incident on the same service and env (detection: detected_at as given when the incident was opened, else the first alert's onset, else the opening). A rollback from ${minutesLabel} before an incident's detection until its resolution is its remedy: listed under remediations, not counted. changes lists what was counted (the newest ${LISTED_CHANGES}); a failed one names its incident`,
      sample: changes.length,
      failed: failedCount,
      changes: newest(changes),
      remediations: newest(remediations),
    },
    self_service_share: {
      value: total ? round(day2Count / total) : null,
      unit: 'ratio',
      definition:
        "day2 writes ÷ (day2 writes + Day-2 changes made outside day2) in the window; outside changes are the change ledger's rollouts, silences and downtimes not made by day2 (list_changes kinds rollout, silence, downtime, day2: false)",
      sample: total,
    },
    proactive_share: {
      value: day2Count ? round((day2Count - reactive) / day2Count) : null,
      unit: 'ratio',
      definition:
        'share of day2 writes in the window made while no incident was open on their service and env (proactive); the others are reactive',
      sample: day2Count,
      proactive: day2Count - reactive,
      reactive,
    },
  };
}
