import type { v1, v2 } from '@datadog/datadog-api-client';
import type {
  DatadogAlert,
  DatadogDowntime,
  DatadogEvent,
  DatadogIncident,
  DatadogMonitor,
  MonitorState,
} from './types.js';

const STATES: Record<string, MonitorState> = { OK: 'ok', Alert: 'alert', Warn: 'warn', 'No Data': 'no_data' };

function iso(d: Date | null | undefined): string | null {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
}

/** A client enum value as text; values the client could not parse come back as objects. */
export function enumText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A raw timestamp the client did not model: ISO text or epoch seconds. */
export function isoFromRaw(v: unknown): string | null {
  if (typeof v === 'number') return new Date(v * 1000).toISOString();
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return new Date(v).toISOString();
  return null;
}

function tagValue(tags: string[], key: string): string | null {
  const t = tags.find((x) => x.startsWith(`${key}:`));
  return t ? t.slice(key.length + 1) : null;
}

/** The value of `key:` in a monitor query's scope braces, such as `service` in `{service:checkout,env:prod}`. */
function scopeValue(query: string, key: string): string | null {
  const scope = /\{([^}]*)\}/.exec(query)?.[1] ?? '';
  const hit = scope
    .split(',')
    .map((s) => s.trim())
    .find((s) => s.startsWith(`${key}:`));
  return hit ? hit.slice(key.length + 1) : null;
}

export function toMonitor(m: v1.Monitor): DatadogMonitor {
  const silenced = m.options?.silenced;
  return {
    id: m.id ?? 0,
    name: m.name ?? '',
    type: enumText(m.type),
    query: m.query,
    message: m.message ?? '',
    tags: m.tags ?? [],
    state: STATES[enumText(m.overallState)] ?? 'unknown',
    // Not modelled by the client: it arrives among additionalProperties.
    stateSince: isoFromRaw(m.additionalProperties?.['overall_state_modified']),
    priority: m.priority ?? null,
    muted:
      (m.matchingDowntimes?.length ?? 0) > 0 || (silenced !== undefined && Object.keys(silenced).length > 0),
  };
}

function summaryOf(message: string): string {
  const line =
    message
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !l.startsWith('{{')) ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** A v1 `matching_downtimes` entry as the monitor reports it (numeric legacy id). */
export type MatchingDowntime = NonNullable<v1.Monitor['matchingDowntimes']>[number];

/**
 * The v2 id of a downtime that a v1 monitor reports by its legacy numeric id. The two APIs share no
 * key, so the v2 downtime is the one active downtime that selects this monitor with the same
 * schedule (to the second) and scope; when none or several fit, the numeric id stays.
 */
export function v2DowntimeId(
  m: v1.Monitor,
  d: MatchingDowntime,
  current: readonly DatadogDowntime[],
): string {
  const sec = (iso: string | null) => (iso === null ? null : Math.floor(Date.parse(iso) / 1000));
  // v2 scopes join terms with AND; v1 lists them (and an entry may still hold an AND).
  const scopeKey = (parts: string[]) =>
    parts
      .flatMap((p) => p.split(/\s+AND\s+|,/))
      .map((p) => p.trim())
      .filter(Boolean)
      .sort()
      .join(',');
  const want = scopeKey(d.scope ?? []);
  const tags = m.tags ?? [];
  const fits = current.filter(
    (c) =>
      c.status === 'active' &&
      sec(c.start) === (typeof d.start === 'number' ? d.start : null) &&
      sec(c.end) === (typeof d.end === 'number' ? d.end : null) &&
      scopeKey([c.scope]) === want &&
      (c.monitorId !== null
        ? c.monitorId === m.id
        : (c.monitorTags ?? []).every((t) => t === '*' || tags.includes(t))),
  );
  return fits.length === 1 ? fits[0]!.id : String(d.id);
}

/** A monitor in Alert or Warn as the alerts view shows it; undefined for other states. */
export function toAlert(
  m: v1.Monitor,
  scopeTag?: string,
  current: readonly DatadogDowntime[] = [],
): DatadogAlert | undefined {
  const mon = toMonitor(m);
  if (mon.state !== 'alert' && mon.state !== 'warn') return undefined;
  const scopeEnv = scopeTag?.startsWith('env:') ? scopeTag.slice(4) : null;
  return {
    id: `datadog:monitor:${mon.id}`,
    monitorId: mon.id,
    name: mon.name,
    state: mon.state,
    service: tagValue(mon.tags, 'service') ?? scopeValue(mon.query, 'service'),
    env: tagValue(mon.tags, 'env') ?? scopeValue(mon.query, 'env') ?? scopeEnv,
    since: mon.stateSince,
    summary: summaryOf(mon.message),
    tags: mon.tags,
    muted: mon.muted,
    downtimes: (m.matchingDowntimes ?? []).map((d) => ({
      id: v2DowntimeId(m, d, current),
      end: typeof d.end === 'number' ? new Date(d.end * 1000).toISOString() : null,
    })),
  };
}

export function toDowntime(d: v2.DowntimeResponseData): DatadogDowntime {
  const a = d.attributes;
  const identifier = (a?.monitorIdentifier ?? {}) as { monitorId?: number; monitorTags?: string[] };
  const schedule = (a?.schedule ?? {}) as {
    start?: Date;
    end?: Date | null;
    currentDowntime?: { start?: Date; end?: Date | null };
  };
  const start = schedule.start ?? schedule.currentDowntime?.start;
  const end = schedule.end ?? schedule.currentDowntime?.end;
  return {
    id: d.id ?? '',
    scope: a?.scope ?? '',
    monitorId: typeof identifier.monitorId === 'number' ? identifier.monitorId : null,
    monitorTags: Array.isArray(identifier.monitorTags) ? identifier.monitorTags : null,
    start: iso(start),
    end: iso(end),
    message: a?.message ?? null,
    status: enumText(a?.status) || 'unknown',
    canceled: iso(a?.canceled),
    ...(a?.created ? { created: iso(a.created) ?? undefined } : {}),
  };
}

export function toEvent(e: v2.EventResponse): DatadogEvent {
  const outer = e.attributes;
  const inner = outer?.attributes;
  const ts =
    outer?.timestamp ?? (typeof inner?.timestamp === 'number' ? new Date(inner.timestamp) : undefined);
  return {
    id: e.id ?? '',
    title: inner?.title ?? '',
    message: outer?.message ?? '',
    timestamp: iso(ts),
    tags: outer?.tags ?? [],
    service: inner?.service ?? null,
    host: inner?.hostname ?? null,
    status: enumText(inner?.status) || null,
  };
}

export function toIncident(i: v2.IncidentResponseData): DatadogIncident {
  const a = i.attributes;
  const fields = (a?.fields ?? {}) as Record<string, { value?: unknown } | undefined>;
  const fieldText = (name: string): string | null => {
    const v = fields[name]?.value;
    return typeof v === 'string' ? v : null;
  };
  return {
    id: i.id,
    publicId: a?.publicId ?? null,
    title: a?.title ?? '',
    state: a?.state ?? fieldText('state'),
    severity: enumText(a?.severity) || fieldText('severity'),
    customerImpacted: a?.customerImpacted ?? false,
    created: iso(a?.created),
    modified: iso(a?.modified),
    resolved: iso(a?.resolved),
    commanderId: i.relationships?.commanderUser?.data?.id ?? null,
    summary: fieldText('summary'),
  };
}
