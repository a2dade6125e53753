import type { Deps } from '../../contract/deps.js';
import { collectAlerts, type DayAlert } from '../context/alerts.js';
import { untrusted, type Gap } from '../context/gather.js';
import { changesFrom, describeDay2, readChangeSources } from '../context/changes/ledger.js';
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
  // What changed comes from the change ledger, as list_changes and triage read it.
  const query = {
    env: inc.env,
    services: [inc.service],
    since: from,
    until,
    kinds: ['rollout', 'day2'] as const,
  };
  const [ledger, live] = await Promise.all([
    readChangeSources(deps, query),
    inc.status === 'resolved'
      ? Promise.resolve({ alerts: [] as DayAlert[], gaps: [] as Gap[] })
      : collectAlerts(deps, { env: inc.env, service: inc.service }),
  ]);
  const changes = changesFrom(deps, query, ledger.sources);
  await describeDay2(deps.store, inc.env, changes.slice(0, 50));

  const entries: TimelineEntry[] = [];
  for (const a of mergeAlertRefs(inc.alerts, live.alerts))
    if (a.since)
      entries.push({
        at: a.since,
        kind: 'alert',
        source: a.id.startsWith('datadog:') ? 'datadog' : 'alertmanager',
        text: `alert ${untrusted(a.name, 120)} started firing on ${a.service ?? inc.service}`,
      });
  for (const c of changes)
    if (c.at)
      entries.push(
        c.tool
          ? {
              at: c.at,
              kind: 'day2_action',
              source: 'audit',
              by: c.by,
              text: `day2 ${c.tool} on ${c.service ?? inc.service}${c.approval_id ? ` (approval ${c.approval_id})` : ''}: ${c.outcome === 'ok' ? 'succeeded' : c.outcome === 'failed' ? `failed (${c.error ?? 'error'})` : 'started, no outcome recorded'}${c.kind === 'rollout' ? `; ${c.what}` : ''}`,
            }
          : {
              at: c.at,
              kind: 'rollout',
              source: 'kubernetes',
              by: c.by,
              text: `${c.what}${c.change_cause ? ` (${c.change_cause})` : ''}`,
            },
      );
  for (const e of inc.entries)
    entries.push({ at: e.at, kind: e.kind, source: 'day2', by: e.by, text: untrusted(e.text, 500) });

  const inWindow = entries.filter((e) =>
    e.kind !== 'rollout' && e.kind !== 'day2_action' ? true : e.at >= from && e.at <= until,
  );
  inWindow.sort((a, b) => a.at.localeCompare(b.at));
  return { entries: inWindow, gaps: [...ledger.gaps, ...live.gaps] };
}
