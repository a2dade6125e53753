import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startDatadogEmulator, type DatadogEmulatorOptions } from '../../src/sandbox/datadog/index.js';
import type {
  DowntimeSeed,
  EventSeed,
  IncidentSeed,
  MonitorSeed,
  ServiceDefinitionSeed,
} from '../../src/sandbox/datadog/index.js';

/**
 * Replays every recorded Datadog exchange (HAR files from the official client's test cassettes)
 * against the emulator, and checks it answers with the same status and the same field names and
 * JSON types, recursively, arrays element by element.
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fidelityDir = process.env.DAY2_FIDELITY_DIR ?? resolve(repo, '../shared/fidelity');
const ddDir = join(fidelityDir, 'datadog');
const present = existsSync(ddDir);

interface HarEntry {
  request: { method: string; url: string; postData?: { text?: string } };
  response: { status: number; content: { mimeType?: string; text?: string } };
}

function harFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? harFiles(p) : name.endsWith('.har') ? [p] : [];
  });
}

function entries(file: string): HarEntry[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { log: { entries: HarEntry[] } }).log.entries;
}

function json(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// ---- shapes -----------------------------------------------------------------------------------

type Kind = 'null' | 'string' | 'number' | 'boolean' | 'object' | 'array';
interface Shape {
  kinds: Set<Kind>;
  fields: Map<string, Shape>;
  required: Set<string> | null;
  element: Shape | null;
}

function kindOf(v: unknown): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

function shapeOf(v: unknown): Shape {
  const s: Shape = { kinds: new Set([kindOf(v)]), fields: new Map(), required: null, element: null };
  if (isRec(v)) {
    s.required = new Set(Object.keys(v));
    for (const [k, x] of Object.entries(v)) s.fields.set(k, shapeOf(x));
  } else if (Array.isArray(v)) {
    for (const x of v) s.element = merge(s.element, shapeOf(x));
  }
  return s;
}

function merge(a: Shape | null | undefined, b: Shape | null | undefined): Shape | null {
  if (!a) return b ?? null;
  if (!b) return a;
  const fields = new Map(a.fields);
  for (const [k, s] of b.fields) fields.set(k, merge(fields.get(k), s) as Shape);
  const required =
    a.required && b.required
      ? new Set([...a.required].filter((k) => b.required?.has(k)))
      : (a.required ?? b.required);
  return { kinds: new Set([...a.kinds, ...b.kinds]), fields, required, element: merge(a.element, b.element) };
}

/**
 * Compares an emulator value with the recorded shape. A recorded null says only that the field is
 * nullable, so anything goes there. Fields the recording has must be present; a field the recording
 * lacks is accepted only if another recording of the same operation shows it (the API added fields
 * over the years, and older objects lack them).
 */
function compare(actual: unknown, rec: Shape, allowed: Shape | null, path: string, problems: string[]): void {
  const kind = kindOf(actual);
  const recKinds = [...rec.kinds].filter((k) => k !== 'null');
  if (recKinds.length === 0) return;
  if (!rec.kinds.has(kind)) {
    problems.push(`${path}: ${kind} where the recording has ${[...rec.kinds].join('|')}`);
    return;
  }
  if (kind === 'object') {
    const a = actual as Rec;
    for (const k of rec.required ?? []) if (!(k in a)) problems.push(`${path}.${k}: missing`);
    for (const [k, v] of Object.entries(a)) {
      const r = rec.fields.get(k);
      const al = allowed?.fields.get(k) ?? null;
      if (r) compare(v, r, al, `${path}.${k}`, problems);
      else if (al) compare(v, al, al, `${path}.${k}`, problems);
      else problems.push(`${path}.${k}: not in any recording of this operation`);
    }
  } else if (kind === 'array') {
    const a = actual as unknown[];
    if (rec.element && a.length === 0 && ['$', '$.data', '$.monitors'].includes(path))
      problems.push(`${path}: empty where the recording has items`);
    if (rec.element)
      for (const [i, x] of a.entries())
        compare(x, rec.element, allowed?.element ?? null, `${path}[${i}]`, problems);
  }
}

function operationKey(method: string, url: string, status: number): string {
  const path = new URL(url).pathname
    .split('/')
    .map((s, i) => (i > 3 && (/\d/.test(s) || /^not-a-service$/.test(s)) ? '{id}' : s))
    .join('/');
  return `${method} ${path} ${status}`;
}

// ---- seeds derived from what the recordings show ------------------------------------------------

function seedFor(rel: string, es: HarEntry[]): Partial<DatadogEmulatorOptions> {
  const bodies = es
    .filter((e) => e.request.method === 'GET' && e.response.status === 200)
    .map((e) => json(e.response.content.text));
  if (rel === 'monitors/list-paginated.har') {
    return {
      monitors: bodies
        .flatMap(arr)
        .filter(isRec)
        .map((m): MonitorSeed => ({
          name: str(m.name) ?? 'monitor',
          type: str(m.type),
          query: str(m.query),
          message: str(m.message),
          tags: arr(m.tags) as string[],
          priority: typeof m.priority === 'number' ? m.priority : null,
          options: isRec(m.options) ? m.options : {},
          overall_state: str(m.overall_state) as MonitorSeed['overall_state'],
          overall_state_modified: str(m.overall_state_modified) ?? null,
        })),
    };
  }
  if (rel === 'monitors/search.har') {
    return {
      monitors: bodies
        .flatMap((b) => arr(isRec(b) ? b.monitors : []))
        .filter(isRec)
        .slice(0, 40)
        .map((m): MonitorSeed => ({
          name: str(m.name) ?? 'monitor',
          type: str(m.type),
          query: str(m.query),
          tags: arr(m.tags) as string[],
          priority: typeof m.priority === 'number' ? m.priority : null,
          overall_state: str(m.status) as MonitorSeed['overall_state'],
          overall_state_modified:
            typeof m.overall_state_modified === 'number'
              ? new Date(m.overall_state_modified * 1000).toISOString()
              : null,
        })),
    };
  }
  if (rel === 'downtimes-v2/list.har') {
    return {
      downtimes: bodies
        .flatMap((b) => arr(isRec(b) ? b.data : []))
        .filter(isRec)
        .map((d): DowntimeSeed => {
          const a = isRec(d.attributes) ? d.attributes : {};
          const mi = isRec(a.monitor_identifier) ? a.monitor_identifier : {};
          const sch = isRec(a.schedule) ? a.schedule : {};
          return {
            scope: str(a.scope) ?? '*',
            ...(typeof mi.monitor_id === 'number'
              ? { monitor_id: mi.monitor_id }
              : { monitor_tags: arr(mi.monitor_tags) as string[] }),
            ...(str(sch.start) ? { start: str(sch.start) } : {}),
            end: str(sch.end) ?? null,
            message: str(a.message) ?? null,
          };
        }),
    };
  }
  if (rel === 'events-v2/list-paginated.har') {
    const now = Date.now();
    return {
      events: bodies
        .flatMap((b) => arr(isRec(b) ? b.data : []))
        .filter(isRec)
        .map((e, i): EventSeed => {
          const outer = isRec(e.attributes) ? e.attributes : {};
          const inner = isRec(outer.attributes) ? outer.attributes : {};
          return {
            title: str(inner.title) ?? 'event',
            message: str(outer.message),
            tags: arr(outer.tags) as string[],
            timestamp: now - (i + 1) * 60_000,
            ...(str(inner.service) ? { service: str(inner.service) } : {}),
            ...(str(inner.hostname) ? { host: str(inner.hostname) } : {}),
            status: str(inner.status) as EventSeed['status'],
            priority: str(inner.priority) as EventSeed['priority'],
            aggregation_key: str(inner.aggregation_key),
          };
        }),
    };
  }
  if (rel === 'incidents-v2/list-paginated.har') {
    return {
      incidents: bodies
        .flatMap((b) => arr(isRec(b) ? b.data : []))
        .filter(isRec)
        .map((i): IncidentSeed => {
          const rel2 =
            isRec(i.relationships) && isRec(i.relationships.commander_user)
              ? i.relationships.commander_user.data
              : null;
          const attrs = isRec(i.attributes) ? i.attributes : {};
          return {
            title: str(attrs.title) ?? 'incident',
            ...(isRec(rel2) && str(rel2.id) ? { commander_uuid: str(rel2.id) } : {}),
          };
        }),
    };
  }
  if (rel === 'service-definitions-v2/list.har') {
    return {
      serviceDefinitions: bodies
        .flatMap((b) => arr(isRec(b) ? b.data : []))
        .filter(isRec)
        .map((d) => (isRec(d.attributes) && isRec(d.attributes.schema) ? d.attributes.schema : null))
        .filter((s): s is ServiceDefinitionSeed => isRec(s) && typeof s['dd-service'] === 'string'),
    };
  }
  return {};
}

/** Recorded ids (and cursors) that later requests use, mapped to the emulator's. */
function collectIds(recorded: unknown, actual: unknown, ids: Map<string, string>): void {
  if (!isRec(recorded) || !isRec(actual)) return;
  const idOf = (v: unknown): string | undefined =>
    typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  const pair = (a: unknown, b: unknown): void => {
    const from = idOf(a);
    const to = idOf(b);
    if (from !== undefined && to !== undefined) ids.set(from, to);
  };
  pair(recorded.id, actual.id);
  if (isRec(recorded.data) && isRec(actual.data)) pair(recorded.data.id, actual.data.id);
  const after = (v: Rec): unknown => (isRec(v.meta) && isRec(v.meta.page) ? v.meta.page.after : undefined);
  if (typeof after(recorded) === 'string' && typeof after(actual) === 'string')
    ids.set(after(recorded) as string, after(actual) as string);
}

function substitute(text: string, ids: Map<string, string>): string {
  let out = text;
  for (const [from, to] of ids) out = out.split(from).join(to);
  return out;
}

describe.skipIf(!present)(
  present
    ? 'Datadog emulator fidelity against recorded real responses'
    : 'fidelity (../shared/fidelity absent)',
  () => {
    const files = present ? harFiles(ddDir).sort() : [];
    const allowed = new Map<string, Shape | null>();
    for (const f of files) {
      for (const e of entries(f)) {
        const body = json(e.response.content.text);
        if (body === undefined) continue;
        const key = operationKey(e.request.method, e.request.url, e.response.status);
        allowed.set(key, merge(allowed.get(key), shapeOf(body)));
      }
    }

    it('finds the recordings', () => {
      expect(files.length).toBeGreaterThan(10);
    });

    for (const file of files) {
      const rel = relative(ddDir, file);
      it(`replays ${rel}`, async () => {
        const es = entries(file);
        const apiKey = 'fidelity-api-key';
        const appKey = 'fidelity-app-key';
        const emu = await startDatadogEmulator({ apiKey, appKey, ...seedFor(rel, es) });
        const ids = new Map<string, string>();
        const problems: string[] = [];
        try {
          for (const [n, e] of es.entries()) {
            const u = new URL(substitute(e.request.url, ids));
            const body = e.request.postData?.text ? substitute(e.request.postData.text, ids) : undefined;
            const res = await fetch(`${emu.url}${u.pathname}${u.search}`, {
              method: e.request.method,
              headers: {
                'DD-API-KEY': apiKey,
                'DD-APPLICATION-KEY': appKey,
                accept: 'application/json',
                ...(body ? { 'content-type': 'application/json' } : {}),
              },
              ...(body ? { body } : {}),
            });
            const text = await res.text();
            const label = `#${n} ${e.request.method} ${u.pathname}`;
            if (res.status !== e.response.status) {
              problems.push(
                `${label}: status ${res.status}, recorded ${e.response.status}: ${text.slice(0, 200)}`,
              );
              continue;
            }
            const recorded = json(e.response.content.text);
            if (recorded === undefined) continue;
            const actual = json(text);
            const key = operationKey(e.request.method, e.request.url, e.response.status);
            const sub: string[] = [];
            compare(actual, shapeOf(recorded), allowed.get(key) ?? null, '$', sub);
            problems.push(...sub.map((p) => `${label}: ${p}`));
            collectIds(recorded, actual, ids);
          }
        } finally {
          await emu.close();
        }
        expect(problems).toEqual([]);
      });
    }
  },
);
