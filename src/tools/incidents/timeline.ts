import type { Deps } from '../../contract/deps.js';
import { collectAlerts, type DayAlert } from '../context/alerts.js';
import { gather, untrusted, type Gap } from '../context/gather.js';
import type { RevisionInfo } from '../../providers/kubernetes/types.js';
import { day2Actions, type Day2Action } from '../context/changes/day2-writes.js';
import type { IncidentAlertRef, IncidentRecord } from './incident-record.js';

export interface TimelineEntry {
  at: string;
  kind:
    'alert' | 'rollout' | 'day2_action' | 'opened' | 'note' | 'status' | 'severity' | 'resolved' | 'mirror';
  source: 'alertmanager' | 'datadog' | 'kubernetes' | 'audit' | 'day2';
  /** One line; alert names and notes are data as their authors wrote them. */
  text: string;
  by?: string;
}

/** How far before detection the timeline looks for causes (rollouts, day2 changes). */
export const LOOKBACK_MS = 60 * 60_000;

/** Merges alert references by id, keeping the earliest onset. */
export function mergeAlertRefs(known: IncidentAlertRef[], seen: DayAlert[]): IncidentAlertRef[] {
  const by = new Map(known.map((a) => [a.id, a]));
  for (const a of seen)
    if (!by.has(a.id)) by.set(a.id, { id: a.id, name: a.name, service: a.service, since: a.since });
  return [...by.values()].slice(0, 50);
}

/**
 * The incident's timeline: alert onsets, rollouts of the service, day2's audited actions and the
 * incident's own notes and status changes, oldest first, from an hour before detection to
 * resolution (or now). Backends that do not answer become gaps; the record's own entries always show.
 */
export async function buildTimeline(
  deps: Deps,
  inc: IncidentRecord,
): Promise<{ entries: TimelineEntry[]; gaps: Gap[] }> {
  const from = new Date(Date.parse(inc.detected_at) - LOOKBACK_MS).toISOString();
  const until = inc.resolved_at ?? deps.clock.now().toISOString();
  const workload = deps.catalog.workloadFor(inc.service, inc.env);
  const k8s =
    workload && deps.backends.has(inc.env, 'kubernetes') ? deps.backends.kubernetes(inc.env) : undefined;

  type Part = { kind: 'actions'; value: Day2Action[] } | { kind: 'revisions'; value: RevisionInfo[] };
  const tasks: { backend: string; env?: string; run: () => Promise<Part> }[] = [
    {
      backend: 'audit',
      run: async () => ({
        kind: 'actions',
        value: await day2Actions(deps.store, { env: inc.env, service: inc.service, since: from, limit: 100 }),
      }),
    },
  ];
  if (k8s && workload)
    tasks.push({
      backend: 'kubernetes',
      env: inc.env,
      run: async () => ({
        kind: 'revisions',
        value: await k8s.listReplicaSets(workload.namespace, undefined, workload.name),
      }),
    });
  const [parts, live] = await Promise.all([
    gather(tasks, deps.config.backends.timeout),
    inc.status === 'resolved'
      ? Promise.resolve({ alerts: [] as DayAlert[], gaps: [] as Gap[] })
      : collectAlerts(deps, { env: inc.env, service: inc.service }),
  ]);

  const entries: TimelineEntry[] = [];
  for (const a of mergeAlertRefs(inc.alerts, live.alerts))
    if (a.since)
      entries.push({
        at: a.since,
        kind: 'alert',
        source: a.id.startsWith('datadog:') ? 'datadog' : 'alertmanager',
        text: `alert ${untrusted(a.name, 120)} started firing on ${a.service ?? inc.service}`,
      });
  for (const { value: p } of parts.results) {
    if (p.kind === 'actions')
      for (const a of p.value)
        entries.push({
          at: a.at,
          kind: 'day2_action',
          source: 'audit',
          by: a.principal,
          text: `day2 ${a.tool} on ${a.service ?? inc.service}: ${a.ok === undefined ? 'started, no outcome recorded' : a.ok ? 'succeeded' : `failed (${a.error ?? 'error'})`}`,
        });
    else
      for (const r of p.value)
        if (r.createdAt)
          entries.push({
            at: r.createdAt,
            kind: 'rollout',
            source: 'kubernetes',
            text: `revision ${r.revision} created: ${r.images.map((i) => i.image).join(', ')}${r.changeCause ? ` (${untrusted(r.changeCause, 100)})` : ''}`,
          });
  }
  for (const e of inc.entries)
    entries.push({ at: e.at, kind: e.kind, source: 'day2', by: e.by, text: untrusted(e.text, 500) });

  const inWindow = entries.filter((e) =>
    e.kind !== 'rollout' && e.kind !== 'day2_action' ? true : e.at >= from && e.at <= until,
  );
  inWindow.sort((a, b) => a.at.localeCompare(b.at));
  return { entries: inWindow, gaps: [...parts.gaps, ...live.gaps] };
}
