import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { badRequest, isRecord } from './http-io.js';

/** An event to seed the emulator with. */
export interface EventSeed {
  id?: string;
  title: string;
  message?: string;
  tags?: string[];
  /** ISO time or epoch milliseconds. */
  timestamp: string | number;
  service?: string;
  host?: string;
  status?: 'info' | 'error' | 'warning' | 'success';
  priority?: 'normal' | 'low';
  source?: string;
  aggregation_key?: string;
}

export interface StoredEvent {
  id: string;
  legacyId: string;
  title: string;
  message: string;
  tags: string[];
  timestamp: Date;
  service?: string;
  host?: string;
  status: string;
  priority: string;
  source?: string;
  aggregationKey: string;
}

interface EventQuery {
  query: string;
  from: string;
  to: string;
  sort: string;
  limit: number;
  cursor?: string;
}

/** The v2 events search: list with cursor pagination (`GET /api/v2/events`, `POST /api/v2/events/search`). */
export class EventStore {
  private readonly events: StoredEvent[] = [];

  constructor(
    private readonly clock: Clock,
    seeds: EventSeed[] = [],
  ) {
    for (const s of seeds) this.add(s);
  }

  /** Adds an event, as if the intake had received it (tests, the sandbox fleet). */
  add(s: EventSeed): StoredEvent {
    const tags = [...(s.tags ?? [])];
    if (s.source && !tags.includes(`source:${s.source}`)) tags.push(`source:${s.source}`);
    const e: StoredEvent = {
      id: s.id ?? randomBytes(48).toString('base64url'),
      legacyId: String(BigInt.asUintN(62, BigInt('0x' + randomBytes(8).toString('hex')))),
      title: s.title,
      message: s.message ?? '',
      tags,
      timestamp: new Date(s.timestamp),
      status: s.status ?? 'info',
      priority: s.priority ?? 'normal',
      aggregationKey: s.aggregation_key ?? randomBytes(8).toString('hex'),
      ...(s.service !== undefined ? { service: s.service } : {}),
      ...(s.host !== undefined ? { host: s.host } : {}),
      ...(s.source !== undefined ? { source: s.source } : {}),
    };
    this.events.push(e);
    return e;
  }

  all(): StoredEvent[] {
    return [...this.events];
  }

  list(q: URLSearchParams, baseUrl: string): unknown {
    const query: EventQuery = {
      query: q.get('filter[query]') ?? '*',
      from: q.get('filter[from]') ?? 'now-15m',
      to: q.get('filter[to]') ?? 'now',
      sort: q.get('sort') ?? '-timestamp',
      limit: limitParam(q.get('page[limit]')),
      ...(q.get('page[cursor]') ? { cursor: q.get('page[cursor]') as string } : {}),
    };
    return this.run(query, (after) => {
      const next = new URLSearchParams();
      for (const [k, v] of q) if (k !== 'page[cursor]' && k !== 'page[limit]') next.append(k, v);
      next.set('page[cursor]', after);
      next.set('page[limit]', String(query.limit));
      return `${baseUrl}/api/v2/events?${next.toString()}`;
    });
  }

  search(body: unknown): unknown {
    const b = body === undefined ? {} : body;
    if (!isRecord(b)) throw badRequest('Invalid request body');
    const filter = isRecord(b.filter) ? b.filter : {};
    const page = isRecord(b.page) ? b.page : {};
    const str = (v: unknown, d: string): string =>
      typeof v === 'string' ? v : typeof v === 'number' ? String(v) : d;
    const query: EventQuery = {
      query: str(filter.query, '*'),
      from: str(filter.from, 'now-15m'),
      to: str(filter.to, 'now'),
      sort: str(b.sort, '-timestamp'),
      limit: limitParam(
        typeof page.limit === 'number' || typeof page.limit === 'string' ? String(page.limit) : null,
      ),
      ...(typeof page.cursor === 'string' ? { cursor: page.cursor } : {}),
    };
    return this.run(query);
  }

  private run(q: EventQuery, nextLink?: (after: string) => string): unknown {
    const now = this.clock.now();
    const from = parseEventTime(q.from, now, 'filter[from]');
    const to = parseEventTime(q.to, now, 'filter[to]');
    if (q.sort !== 'timestamp' && q.sort !== '-timestamp') throw badRequest(`Invalid sort: ${q.sort}`);
    const match = parseEventQuery(q.query);
    const sign = q.sort === 'timestamp' ? 1 : -1;
    const matched = this.events
      .filter(
        (e) => e.timestamp.getTime() >= from.getTime() && e.timestamp.getTime() <= to.getTime() && match(e),
      )
      .sort((a, b) => sign * (a.timestamp.getTime() - b.timestamp.getTime()) || a.id.localeCompare(b.id));
    let start = 0;
    if (q.cursor !== undefined) {
      const afterId = decodeCursor(q.cursor);
      const i = matched.findIndex((e) => e.id === afterId);
      start = i === -1 ? matched.length : i + 1;
    }
    const page = matched.slice(start, start + q.limit);
    if (page.length === 0) return { data: [] };
    const after = encodeCursor((page[page.length - 1] as StoredEvent).id);
    const out: Record<string, unknown> = { meta: { page: { after } }, data: page.map(render) };
    if (nextLink) out.links = { next: nextLink(after) };
    return out;
  }
}

function render(e: StoredEvent): unknown {
  const inner: Record<string, unknown> = { status: e.status, event_object: e.aggregationKey };
  if (e.service !== undefined) inner.service = e.service;
  inner.title = e.title;
  inner.timestamp = e.timestamp.getTime();
  if (e.host !== undefined) inner.hostname = e.host;
  inner.priority = e.priority;
  inner.aggregation_key = e.aggregationKey;
  inner.evt = { source_id: 100, type: 'api', id: e.legacyId };
  return {
    attributes: {
      attributes: inner,
      message: e.message,
      tags: e.tags,
      timestamp: e.timestamp.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
    type: 'event',
    id: e.id,
  };
}

function limitParam(v: string | null): number {
  if (v === null || v === '') return 10;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1000)
    throw badRequest('page[limit] must be between 1 and 1000');
  return Number(v);
}

function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ after: id })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (isRecord(v) && typeof v.after === 'string') return v.after;
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('Invalid page[cursor]');
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Event search times: `now`, `now-15m`, RFC 3339, or epoch milliseconds. */
export function parseEventTime(v: string, now: Date, field: string): Date {
  const rel = /^now(?:([+-])(\d+)([smhdw]))?$/.exec(v.trim());
  if (rel) {
    if (!rel[1]) return now;
    const delta = Number(rel[2]) * (UNIT_MS[rel[3] as string] ?? 0);
    return new Date(now.getTime() + (rel[1] === '-' ? -delta : delta));
  }
  if (/^\d+$/.test(v)) return new Date(Number(v));
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`Invalid ${field}: ${v}`);
  return new Date(t);
}

/** A small subset of the event search syntax: `key:value` terms, free text, `-` negation, `*`. */
export function parseEventQuery(query: string): (e: StoredEvent) => boolean {
  const terms: ((e: StoredEvent) => boolean)[] = [];
  for (const m of query.matchAll(/(-?)(?:([\w.@-]+):(?:"([^"]*)"|(\S+))|"([^"]*)"|(\S+))/g)) {
    const negate = m[1] === '-';
    const key = m[2];
    const value = m[3] ?? m[4] ?? m[5] ?? m[6] ?? '';
    if (key === undefined && (value === '*' || value === 'AND' || value === '')) continue;
    let term: (e: StoredEvent) => boolean;
    if (key === undefined) {
      const text = value.toLowerCase();
      term = (e) => e.title.toLowerCase().includes(text) || e.message.toLowerCase().includes(text);
    } else {
      const wild = (actual: string | undefined): boolean =>
        actual !== undefined &&
        (value === '*' || (value.endsWith('*') ? actual.startsWith(value.slice(0, -1)) : actual === value));
      const k = key.toLowerCase();
      term = (e) => {
        if (k === 'service' && wild(e.service)) return true;
        if (k === 'host' && wild(e.host)) return true;
        if (k === 'status' && wild(e.status)) return true;
        if (k === 'source' && wild(e.source)) return true;
        if (k === 'priority' && wild(e.priority)) return true;
        if (k === 'tags' || k === 'tag') return e.tags.some((t) => wild(t));
        return e.tags.some((t) => t.startsWith(`${key}:`) && wild(t.slice(key.length + 1)));
      };
    }
    terms.push(negate ? (e) => !term(e) : term);
  }
  return (e) => terms.every((t) => t(e));
}
