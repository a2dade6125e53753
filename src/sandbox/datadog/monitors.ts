import type { Clock } from '../../core/clock.js';
import { ACTING_USER, ORG_ID } from './org.js';
import { badRequest, ddTimestamp, isRecord, notFound } from './http-io.js';

export type MonitorOverallState = 'OK' | 'Alert' | 'Warn' | 'No Data' | 'Ignored' | 'Skipped' | 'Unknown';

/** A monitor to seed the emulator with; field names follow the v1 API. */
export interface MonitorSeed {
  id?: number;
  name: string;
  type?: string;
  query?: string;
  message?: string;
  tags?: string[];
  priority?: number | null;
  options?: Record<string, unknown>;
  overall_state?: MonitorOverallState;
  /** ISO time of the last state change; null when it never changed. */
  overall_state_modified?: string | null;
  created?: string;
}

export interface StoredMonitor {
  id: number;
  name: string;
  type: string;
  query: string;
  message: string;
  tags: string[];
  priority: number | null;
  options: Record<string, unknown>;
  overall_state: MonitorOverallState;
  overall_state_modified: Date | null;
  last_triggered: Date | null;
  created: Date;
  modified: Date;
}

/** What the monitor store needs to know about downtimes to render `matching_downtimes` and mute state. */
export interface DowntimeMatcher {
  activeFor(monitor: StoredMonitor): { legacyId: number; start: Date; end: Date | null; scope: string }[];
}

const MONITOR_TYPES = new Set([
  'composite',
  'event alert',
  'log alert',
  'metric alert',
  'process alert',
  'query alert',
  'rum alert',
  'service check',
  'synthetics alert',
  'trace-analytics alert',
  'slo alert',
  'event-v2 alert',
  'audit alert',
  'ci-pipelines alert',
  'ci-tests alert',
  'error-tracking alert',
  'database-monitoring alert',
  'network-performance alert',
  'cost alert',
  'data-quality alert',
]);
const GROUP_STATES = new Set(['all', 'alert', 'warn', 'no data']);
const STATUS_WORDS: Record<string, MonitorOverallState> = {
  ok: 'OK',
  alert: 'Alert',
  warn: 'Warn',
  'no data': 'No Data',
  ignored: 'Ignored',
  skipped: 'Skipped',
  unknown: 'Unknown',
};

/** Scopes of a monitor query: the tags inside the first `{...}`, as the search endpoint reports them. */
export function queryScopes(query: string): string[] {
  const m = /\{([^}]*)\}/.exec(query);
  if (!m?.[1]) return [];
  return m[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function queryMetrics(query: string): string[] {
  const out = new Set<string>();
  for (const m of query.matchAll(/(?:avg|sum|min|max|count):([a-zA-Z0-9_.]+)\{/g)) if (m[1]) out.add(m[1]);
  return [...out];
}

function classification(type: string): string {
  if (type.startsWith('synthetics')) return 'synthetics';
  if (type === 'log alert') return 'log';
  if (type === 'ci-pipelines alert') return 'ci-pipelines';
  if (type === 'composite') return 'composite';
  if (type === 'service check') return 'custom';
  if (type === 'metric alert' || type === 'query alert') return 'metric';
  return type.replace(/ alert$/, '');
}

function notifications(message: string): { handle: string; name: string }[] {
  const out: { handle: string; name: string }[] = [];
  for (const m of message.matchAll(/@([\w.-]+(?:@[\w.-]+)?)/g))
    if (m[1]) out.push({ handle: m[1], name: m[1] });
  return out;
}

function epochSeconds(d: Date | null): number | null {
  return d === null ? null : Math.floor(d.getTime() / 1000);
}

function isoSeconds(d: Date | null): string | null {
  return d === null ? null : d.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function toInt(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`Invalid value for parameter ${name}`);
  return Number(v);
}

/** The v1 monitor collection: list, get, search, create, delete, plus state changes for tests. */
export class MonitorStore {
  private readonly monitors = new Map<number, StoredMonitor>();
  private nextId = 7_000_001;

  constructor(
    private readonly clock: Clock,
    private readonly downtimes: DowntimeMatcher,
    seeds: MonitorSeed[] = [],
  ) {
    for (const s of seeds) this.insert(s);
  }

  insert(seed: MonitorSeed): StoredMonitor {
    const now = this.clock.now();
    const id = seed.id ?? this.nextId++;
    if (id >= this.nextId) this.nextId = id + 1;
    const state = seed.overall_state ?? 'OK';
    const modified =
      seed.overall_state_modified === undefined
        ? now
        : seed.overall_state_modified === null
          ? null
          : new Date(seed.overall_state_modified);
    const m: StoredMonitor = {
      id,
      name: seed.name,
      type: seed.type ?? 'query alert',
      query: seed.query ?? 'avg(last_5m):avg:system.cpu.user{*} > 90',
      message: seed.message ?? '',
      tags: [...(seed.tags ?? [])],
      priority: seed.priority ?? null,
      options: {
        notify_audit: false,
        locked: false,
        include_tags: true,
        new_host_delay: 300,
        require_full_window: true,
        notify_no_data: false,
        ...(seed.options ?? {}),
        silenced: isRecord(seed.options?.silenced) ? seed.options.silenced : {},
      },
      overall_state: state,
      overall_state_modified: modified,
      last_triggered: state === 'Alert' || state === 'Warn' ? modified : null,
      created: seed.created ? new Date(seed.created) : now,
      modified: seed.created ? new Date(seed.created) : now,
    };
    this.monitors.set(id, m);
    return m;
  }

  all(): StoredMonitor[] {
    return [...this.monitors.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): StoredMonitor | undefined {
    return this.monitors.get(id);
  }

  /** Moves a monitor to a new overall state, as an evaluation would (tests and the sandbox fleet). */
  setState(id: number, state: MonitorOverallState, at: Date = this.clock.now()): void {
    const m = this.monitors.get(id);
    if (!m) throw new Error(`no monitor ${id}`);
    if (m.overall_state === state) return;
    m.overall_state = state;
    m.overall_state_modified = at;
    if (state === 'Alert' || state === 'Warn') m.last_triggered = at;
  }

  // ---- HTTP operations -------------------------------------------------------------------------

  list(q: URLSearchParams): unknown[] {
    const groupStates = q.get('group_states');
    if (groupStates !== null && groupStates !== '') {
      for (const g of groupStates.split(','))
        if (!GROUP_STATES.has(g.trim().toLowerCase())) throw badRequest('Invalid group_state filters.');
    }
    const name = q.get('name')?.toLowerCase();
    const scopeTags = (q.get('tags') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const monitorTags = (q.get('monitor_tags') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const idOffset = toInt(q.get('id_offset'), 'id_offset');
    const page = toInt(q.get('page'), 'page');
    const pageSizeParam = toInt(q.get('page_size'), 'page_size');
    if (pageSizeParam !== undefined && pageSizeParam > 1000)
      throw badRequest('page_size must be at most 1000');
    let items = this.all().filter((m) => {
      if (name && !m.name.toLowerCase().includes(name)) return false;
      if (idOffset !== undefined && m.id <= idOffset) return false;
      const scopes = queryScopes(m.query);
      if (!scopeTags.every((t) => scopes.includes(t))) return false;
      return monitorTags.every((t) => m.tags.includes(t));
    });
    if (page !== undefined || pageSizeParam !== undefined) {
      const size = pageSizeParam ?? 100;
      const p = page ?? 0;
      items = items.slice(p * size, p * size + size);
    }
    return items.map((m) => this.render(m, { withDowntimes: true }));
  }

  getOne(id: string, q: URLSearchParams): unknown {
    const m = this.find(id);
    const groupStates = q.get('group_states');
    if (groupStates) {
      for (const g of groupStates.split(','))
        if (!GROUP_STATES.has(g.trim().toLowerCase())) throw badRequest('Invalid group_state filters.');
    }
    return this.render(m, { withDowntimes: q.get('with_downtimes') === 'true' });
  }

  create(body: unknown): unknown {
    if (!isRecord(body)) throw badRequest('Invalid JSON body');
    const type = body.type;
    if (typeof type !== 'string' || !MONITOR_TYPES.has(type))
      throw badRequest("The value provided for parameter 'type' is invalid");
    const query = body.query;
    if (typeof query !== 'string' || query.trim() === '')
      throw badRequest("The value provided for parameter 'query' is invalid");
    if (
      body.tags !== undefined &&
      (!Array.isArray(body.tags) || !body.tags.every((t) => typeof t === 'string'))
    ) {
      throw badRequest("The value provided for parameter 'tags' is invalid");
    }
    const options = isRecord(body.options) ? { ...body.options } : {};
    const m = this.insert({
      name: typeof body.name === 'string' ? body.name : query,
      type,
      query,
      message: typeof body.message === 'string' ? body.message : '',
      tags: body.tags ?? [],
      priority: typeof body.priority === 'number' ? body.priority : null,
      overall_state: 'No Data',
      overall_state_modified: null,
    });
    m.options = {
      ...options,
      groupby_simple_monitor: options.groupby_simple_monitor ?? false,
      silenced: isRecord(options.silenced) ? options.silenced : {},
    };
    return { ...this.render(m, { withDowntimes: false }), restriction_policy: null };
  }

  delete(id: string): unknown {
    const m = this.find(id);
    this.monitors.delete(m.id);
    return { deleted_monitor_id: m.id };
  }

  search(q: URLSearchParams): unknown {
    const query = q.get('query') ?? '';
    const page = toInt(q.get('page'), 'page') ?? 0;
    const perPage = toInt(q.get('per_page'), 'per_page') ?? 30;
    if (perPage > 1000) throw badRequest('per_page must be at most 1000');
    const predicate = parseSearch(query);
    const matched = this.all().filter((m) => predicate(m, this.isMuted(m)));
    const sort = q.get('sort');
    if (sort) {
      const [field, dir] = sort.split(',');
      const sign = dir === 'desc' ? -1 : 1;
      const key = (m: StoredMonitor): string | number =>
        field === 'name'
          ? m.name.toLowerCase()
          : field === 'status'
            ? m.overall_state
            : field === 'priority'
              ? (m.priority ?? 99)
              : m.id;
      matched.sort((a, b) => (key(a) < key(b) ? -sign : key(a) > key(b) ? sign : 0));
    }
    const counts = {
      status: countBy(matched, (m) => [m.overall_state]),
      muted: countBy(matched, (m) => [this.isMuted(m)]),
      tag: countBy(matched, (m) => m.tags),
      type: countBy(matched, (m) => [classification(m.type)]),
    };
    const pageItems = matched.slice(page * perPage, page * perPage + perPage);
    return {
      counts,
      monitors: pageItems.map((m) => this.renderSearch(m)),
      metadata: {
        total_count: matched.length,
        page_count: Math.ceil(matched.length / perPage),
        page,
        per_page: perPage,
      },
    };
  }

  private isMuted(m: StoredMonitor): boolean {
    return this.downtimes.activeFor(m).length > 0;
  }

  private find(id: string): StoredMonitor {
    const m = /^\d+$/.test(id) ? this.monitors.get(Number(id)) : undefined;
    if (!m) throw notFound('Monitor not found');
    return m;
  }

  private render(m: StoredMonitor, opts: { withDowntimes: boolean }): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: m.id,
      org_id: ORG_ID,
      type: m.type,
      name: m.name,
      message: m.message,
      tags: m.tags,
      query: m.query,
      options: m.options,
      multi: / by /.test(m.query) || (m.type === 'log alert' && /\.by\(/.test(m.query)),
      created_at: m.created.getTime(),
      created: ddTimestamp(m.created),
      modified: ddTimestamp(m.modified),
      deleted: null,
      restricted_roles: null,
      priority: m.priority,
      overall_state_modified: isoSeconds(m.overall_state_modified),
      overall_state: m.overall_state,
      creator: { name: null, handle: ACTING_USER.handle, email: ACTING_USER.email, id: ACTING_USER.legacyId },
    };
    if (opts.withDowntimes) {
      out.matching_downtimes = this.downtimes.activeFor(m).map((d) => ({
        id: d.legacyId,
        start: epochSeconds(d.start),
        end: epochSeconds(d.end),
        scope: d.scope.split(',').map((s) => s.trim()),
        monitor_id: m.id,
        active: true,
      }));
    }
    return out;
  }

  private renderSearch(m: StoredMonitor): Record<string, unknown> {
    const active = this.downtimes.activeFor(m);
    const mutedUntil =
      active.length === 0
        ? null
        : active.some((d) => d.end === null)
          ? null
          : Math.max(...active.map((d) => epochSeconds(d.end) ?? 0));
    return {
      status: m.overall_state,
      scopes: queryScopes(m.query),
      classification: classification(m.type),
      creator: { handle: ACTING_USER.handle, id: ACTING_USER.legacyId, name: ACTING_USER.name },
      metrics: queryMetrics(m.query),
      notifications: notifications(m.message),
      muted_until_ts: mutedUntil,
      query: m.query,
      id: m.id,
      last_triggered_ts: epochSeconds(m.last_triggered),
      name: m.name,
      tags: m.tags,
      org_id: ORG_ID,
      priority: m.priority,
      overall_state_modified: epochSeconds(m.overall_state_modified),
      restricted_roles: [],
      type: m.type,
    };
  }
}

function countBy<K extends string | boolean>(
  items: StoredMonitor[],
  keys: (m: StoredMonitor) => K[],
): { count: number; name: K }[] {
  const counts = new Map<K, number>();
  for (const m of items) for (const k of new Set(keys(m))) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])))
    .map(([name, count]) => ({ count, name }));
}

type SearchPredicate = (m: StoredMonitor, muted: boolean) => boolean;

/**
 * Parses the monitor search language (space-separated `key:value` terms and free text, all ANDed,
 * `-` negates a term). An unknown status is a query parsing error, as the real API reports it.
 */
export function parseSearch(query: string): SearchPredicate {
  const terms: SearchPredicate[] = [];
  const re = /(-?)(?:([a-z_]+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+))/gi;
  for (const m of query.matchAll(re)) {
    const negate = m[1] === '-';
    const key = m[2]?.toLowerCase();
    const value = (m[3] ?? m[4] ?? m[5] ?? m[6] ?? '').trim();
    let term: SearchPredicate;
    if (key === undefined) {
      const text = value.toLowerCase();
      if (text === '' || text === 'and') continue;
      term = (mon) => mon.name.toLowerCase().includes(text);
    } else if (key === 'status') {
      const state = STATUS_WORDS[value.toLowerCase()];
      if (!state) throw badRequest(`Query parsing error: '${value}' is not a valid monitor status`);
      term = (mon) => mon.overall_state === state;
    } else if (key === 'type') {
      const v = value.toLowerCase();
      term = (mon) => classification(mon.type) === v || mon.type === v;
    } else if (key === 'muted') {
      const v = value.toLowerCase() === 'true';
      term = (_mon, muted) => muted === v;
    } else if (key === 'id') {
      term = (mon) => String(mon.id) === value;
    } else if (key === 'priority') {
      term = (mon) => String(mon.priority ?? '') === value.replace(/^p/i, '');
    } else if (key === 'title' || key === 'name') {
      const v = value.toLowerCase();
      term = (mon) => mon.name.toLowerCase().includes(v);
    } else if (key === 'scope') {
      term = (mon) => queryScopes(mon.query).includes(value);
    } else if (key === 'metric') {
      term = (mon) => queryMetrics(mon.query).includes(value);
    } else if (key === 'notification') {
      term = (mon) => notifications(mon.message).some((n) => n.handle === value.replace(/^@/, ''));
    } else if (key === 'tag') {
      term = (mon) => mon.tags.includes(value);
    } else {
      const tag = `${key}:${value}`;
      term = (mon) => mon.tags.includes(tag) || queryScopes(mon.query).includes(tag);
    }
    terms.push(negate ? (mon, muted) => !term(mon, muted) : term);
  }
  return (mon, muted) => terms.every((t) => t(mon, muted));
}
