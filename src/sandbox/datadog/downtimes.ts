import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { badRequest, ddTimestamp, isRecord, jsonApiAttributes, notFound } from './http-io.js';
import type { DowntimeMatcher, StoredMonitor } from './monitors.js';
import { queryScopes } from './monitors.js';
import { userRef, userResource } from './org.js';

/** A downtime to seed the emulator with (v2 terms). */
export interface DowntimeSeed {
  id?: string;
  scope: string;
  monitor_id?: number;
  monitor_tags?: string[];
  start?: string;
  end?: string | null;
  message?: string | null;
  canceled?: string | null;
}

export type DowntimeStatus = 'scheduled' | 'active' | 'ended' | 'canceled';

export interface StoredDowntime {
  id: string;
  legacyId: number;
  scope: string;
  monitorIdentifier: { monitor_id: number } | { monitor_tags: string[] };
  start: Date;
  end: Date | null;
  message: string | null;
  displayTimezone: string;
  muteFirstRecoveryNotification: boolean;
  notifyEndStates: string[];
  notifyEndTypes: string[];
  created: Date;
  modified: Date;
  canceled: Date | null;
}

const NOTIFY_END_STATES = ['alert', 'no data', 'warn'];

/** The v2 downtime collection (JSON:API): schedule, list, get, cancel. */
export class DowntimeStore implements DowntimeMatcher {
  private readonly downtimes = new Map<string, StoredDowntime>();
  private nextLegacyId = 3_000_001;

  constructor(
    private readonly clock: Clock,
    seeds: DowntimeSeed[] = [],
  ) {
    for (const s of seeds) this.insertSeed(s);
  }

  private insertSeed(s: DowntimeSeed): StoredDowntime {
    const now = this.clock.now();
    const identifier =
      s.monitor_id !== undefined ? { monitor_id: s.monitor_id } : { monitor_tags: s.monitor_tags ?? ['*'] };
    const d: StoredDowntime = {
      id: s.id ?? randomUUID(),
      legacyId: this.nextLegacyId++,
      scope: s.scope,
      monitorIdentifier: identifier,
      start: s.start ? new Date(s.start) : now,
      end: s.end ? new Date(s.end) : null,
      message: s.message ?? null,
      displayTimezone: 'UTC',
      muteFirstRecoveryNotification: false,
      notifyEndStates: [...NOTIFY_END_STATES],
      notifyEndTypes: ['expired'],
      created: now,
      modified: now,
      canceled: s.canceled ? new Date(s.canceled) : null,
    };
    this.downtimes.set(d.id, d);
    return d;
  }

  all(): StoredDowntime[] {
    return [...this.downtimes.values()];
  }

  status(d: StoredDowntime): DowntimeStatus {
    const now = this.clock.now().getTime();
    if (d.canceled) return 'canceled';
    if (d.end && d.end.getTime() <= now) return 'ended';
    if (d.start.getTime() > now) return 'scheduled';
    return 'active';
  }

  activeFor(monitor: StoredMonitor): { legacyId: number; start: Date; end: Date | null; scope: string }[] {
    return this.all().filter((d) => this.status(d) === 'active' && appliesTo(d, monitor));
  }

  // ---- HTTP operations -------------------------------------------------------------------------

  create(body: unknown): unknown {
    const { data, attributes: a } = jsonApiAttributes(body);
    if (data.type !== 'downtime') throw badRequest("Invalid type: expected 'downtime'");
    if (typeof a.scope !== 'string' || a.scope.trim() === '') throw badRequest('scope is required');
    const mi = a.monitor_identifier;
    if (!isRecord(mi)) throw badRequest('monitor_identifier is required');
    let identifier: StoredDowntime['monitorIdentifier'];
    if (typeof mi.monitor_id === 'number' && Number.isInteger(mi.monitor_id))
      identifier = { monitor_id: mi.monitor_id };
    else if (
      Array.isArray(mi.monitor_tags) &&
      mi.monitor_tags.length > 0 &&
      mi.monitor_tags.every((t) => typeof t === 'string')
    ) {
      identifier = { monitor_tags: mi.monitor_tags };
    } else throw badRequest('monitor_identifier must have monitor_id or a non-empty monitor_tags');
    const now = this.clock.now();
    const schedule = a.schedule === undefined || a.schedule === null ? {} : a.schedule;
    if (!isRecord(schedule)) throw badRequest('schedule must be an object');
    if (schedule.recurrences !== undefined)
      throw badRequest('recurring downtimes are not supported by this emulator');
    const start = parseTime(schedule.start, 'schedule.start') ?? now;
    const end = parseTime(schedule.end, 'schedule.end');
    if (end && end.getTime() <= start.getTime())
      throw badRequest('schedule.end must be after schedule.start');
    if (end && end.getTime() <= now.getTime()) throw badRequest('schedule.end must be in the future');
    if (a.message !== undefined && a.message !== null && typeof a.message !== 'string')
      throw badRequest('message must be a string');
    const d: StoredDowntime = {
      id: randomUUID(),
      legacyId: this.nextLegacyId++,
      scope: a.scope,
      monitorIdentifier: identifier,
      start,
      end,
      message: typeof a.message === 'string' ? a.message : null,
      displayTimezone: typeof a.display_timezone === 'string' ? a.display_timezone : 'UTC',
      muteFirstRecoveryNotification: a.mute_first_recovery_notification === true,
      notifyEndStates: Array.isArray(a.notify_end_states)
        ? (a.notify_end_states as string[])
        : [...NOTIFY_END_STATES],
      notifyEndTypes: Array.isArray(a.notify_end_types) ? (a.notify_end_types as string[]) : ['expired'],
      created: now,
      modified: now,
      canceled: null,
    };
    this.downtimes.set(d.id, d);
    return { data: this.render(d, true), included: [userResource()] };
  }

  list(q: URLSearchParams): unknown {
    const offset = intParam(q.get('page[offset]'), 'page[offset]') ?? 0;
    const limit = intParam(q.get('page[limit]'), 'page[limit]') ?? 30;
    const currentOnly = q.get('current_only') === 'true';
    const items = this.all()
      .filter((d) => !currentOnly || ['active', 'scheduled'].includes(this.status(d)))
      .sort((a, b) => a.created.getTime() - b.created.getTime());
    return {
      data: items.slice(offset, offset + limit).map((d) => this.render(d, false)),
      meta: { page: { total_filtered_count: items.length } },
    };
  }

  getOne(id: string): unknown {
    const d = this.downtimes.get(id);
    if (!d) throw notFound('Downtime not found');
    return { data: this.render(d, true) };
  }

  cancel(id: string): void {
    const d = this.downtimes.get(id);
    if (!d) throw notFound(`Downtime ${id} not found`);
    if (!d.canceled) {
      d.canceled = this.clock.now();
      d.modified = d.canceled;
    }
  }

  private render(d: StoredDowntime, withRelationships: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {
      type: 'downtime',
      attributes: {
        monitor_identifier: d.monitorIdentifier,
        notify_end_states: d.notifyEndStates,
        created: ddTimestamp(d.created),
        display_timezone: d.displayTimezone,
        mute_first_recovery_notification: d.muteFirstRecoveryNotification,
        notify_end_types: d.notifyEndTypes,
        message: d.message,
        canceled: d.canceled ? ddTimestamp(d.canceled) : null,
        modified: ddTimestamp(d.modified),
        scope: d.scope,
        schedule: { end: d.end ? ddTimestamp(d.end) : null, start: ddTimestamp(d.start) },
        status: this.status(d),
      },
      id: d.id,
    };
    if (withRelationships) {
      out.relationships = {
        created_by: { data: userRef() },
        monitor: {
          data:
            'monitor_id' in d.monitorIdentifier
              ? { type: 'monitors', id: String(d.monitorIdentifier.monitor_id) }
              : null,
        },
      };
    }
    return out;
  }
}

/** Whether a downtime mutes a monitor: its identifier selects the monitor and its scope overlaps the monitor's. */
function appliesTo(d: StoredDowntime, m: StoredMonitor): boolean {
  const id = d.monitorIdentifier;
  const selected =
    'monitor_id' in id
      ? id.monitor_id === m.id
      : id.monitor_tags.every((t) => t === '*' || m.tags.includes(t));
  if (!selected) return false;
  const scope = d.scope.trim();
  if (scope === '*' || scope === '') return true;
  const known = new Set([...m.tags, ...queryScopes(m.query)]);
  const groupedBy =
    /by \{([^}]*)\}/
      .exec(m.query)?.[1]
      ?.split(',')
      .map((s) => s.trim()) ?? [];
  return scope
    .split(/\s+AND\s+|,/)
    .map((t) => t.trim())
    .every((t) => known.has(t) || groupedBy.includes(t.split(':')[0] ?? ''));
}

function parseTime(v: unknown, field: string): Date | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v)))
    throw badRequest(`${field} must be an RFC 3339 timestamp`);
  return new Date(v);
}

function intParam(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`Invalid value for ${name}`);
  return Number(v);
}
