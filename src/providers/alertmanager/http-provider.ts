import { BackendError, retryAfterMs, type BackendErrorKind } from '../errors.js';
import { compileMatcher, formatMatcher, InvalidMatcherError } from './matchers.js';
import type {
  Alert,
  AlertmanagerProvider,
  AlertState,
  ListAlertsOptions,
  Matcher,
  NewSilence,
  PostableAlert,
  Silence,
} from './types.js';

export interface AlertmanagerProviderOptions {
  /** Base URL of Alertmanager (the API lives under `<url>/api/v2`). */
  url: string;
  /** Per-call timeout (default 10 s). */
  timeoutMs?: number;
  /** Extra headers, e.g. an Authorization header for a proxy in front of Alertmanager. */
  headers?: Record<string, string>;
}

const BACKEND = 'alertmanager';

/** AlertmanagerProvider over Alertmanager's HTTP API v2, with `fetch`. */
export class AlertmanagerHttpProvider implements AlertmanagerProvider {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(private readonly opts: AlertmanagerProviderOptions) {
    this.base = opts.url.replace(/\/+$/, '') + '/api/v2';
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async listAlerts(opts: ListAlertsOptions = {}): Promise<Alert[]> {
    const q = new URLSearchParams();
    for (const key of ['active', 'silenced', 'inhibited', 'unprocessed'] as const) {
      if (opts[key] !== undefined) q.set(key, String(opts[key]));
    }
    for (const m of opts.filter ?? []) q.append('filter', formatMatcher(m));
    if (opts.receiver) q.set('receiver', opts.receiver);
    const body = await this.call('GET', `/alerts${query(q)}`);
    return asArray(body).map(toAlert);
  }

  async postAlerts(alerts: PostableAlert[]): Promise<void> {
    const payload = alerts.map((a) =>
      dropUndefined({
        labels: a.labels,
        annotations: a.annotations,
        startsAt: iso(a.startsAt),
        endsAt: iso(a.endsAt),
        generatorURL: a.generatorURL,
      }),
    );
    await this.call('POST', '/alerts', payload);
  }

  async listSilences(opts: { filter?: Matcher[] } = {}): Promise<Silence[]> {
    const q = new URLSearchParams();
    for (const m of opts.filter ?? []) q.append('filter', formatMatcher(m));
    const body = await this.call('GET', `/silences${query(q)}`);
    return asArray(body).map(toSilence);
  }

  async createSilence(s: NewSilence): Promise<string> {
    const payload = {
      matchers: s.matchers.map((m) => ({
        name: m.name,
        value: m.value,
        isRegex: m.isRegex,
        isEqual: m.isEqual ?? true,
      })),
      startsAt: iso(s.startsAt),
      endsAt: iso(s.endsAt),
      createdBy: s.createdBy,
      comment: s.comment,
    };
    const body = (await this.call('POST', '/silences', payload)) as { silenceID?: unknown } | null;
    if (!body || typeof body.silenceID !== 'string')
      throw new BackendError(BACKEND, 'unavailable', 'Alertmanager did not return a silence id');
    return body.silenceID;
  }

  async expireSilence(id: string): Promise<void> {
    try {
      await this.call('DELETE', `/silence/${encodeURIComponent(id)}`);
    } catch (err) {
      // Alertmanager answers an unknown (well-formed) silence id with 500 "silence not found".
      if (err instanceof BackendError && /silence not found/i.test(err.message)) {
        throw new BackendError(BACKEND, 'not_found', `silence ${id} not found`, {
          status: err.status,
          cause: err,
        });
      }
      throw err;
    }
  }

  async previewSilence(matchers: Matcher[]): Promise<Alert[]> {
    let predicates: ((labels: Record<string, string>) => boolean)[];
    try {
      // Compiled before any call, so that a bad regex is an input error, not a backend one.
      predicates = matchers.map(compileMatcher);
    } catch (err) {
      if (err instanceof InvalidMatcherError)
        throw new BackendError(BACKEND, 'invalid', err.message, { cause: err });
      throw err;
    }
    // Alertmanager's default listing is every alert not yet resolved: active, silenced,
    // inhibited and unprocessed, which is exactly what a new silence can apply to.
    const alerts = await this.listAlerts();
    return alerts.filter((a) => predicates.every((p) => p(a.labels)));
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...this.opts.headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new BackendError(
        BACKEND,
        'unavailable',
        timedOut
          ? `${method} ${path.split('?')[0]} timed out after ${this.timeoutMs} ms`
          : `cannot reach Alertmanager: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const text = await res.text();
    const parsed = parseJson(text);
    if (res.ok) return parsed;
    throw new BackendError(
      BACKEND,
      kindFor(res.status),
      `${method} ${path.split('?')[0]} failed (${res.status}): ${errorText(parsed, text)}`,
      {
        status: res.status,
        retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
      },
    );
  }
}

/** Builds the provider; a function so that callers depend on the interface, not the class. */
export function createAlertmanagerProvider(opts: AlertmanagerProviderOptions): AlertmanagerProvider {
  return new AlertmanagerHttpProvider(opts);
}

function kindFor(status: number): BackendErrorKind {
  if (status === 400 || status === 422) return 'invalid';
  if (status === 401 || status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'throttled';
  return 'unavailable';
}

function parseJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorText(parsed: unknown, raw: string): string {
  if (typeof parsed === 'string') return parsed.slice(0, 300);
  if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
    return (parsed as { message: string }).message.slice(0, 300);
  }
  return raw.slice(0, 300) || 'no details';
}

function query(q: URLSearchParams): string {
  const s = q.toString();
  return s ? `?${s}` : '';
}

function iso(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  return typeof d === 'string' ? d : d.toISOString();
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function asArray(body: unknown): Record<string, unknown>[] {
  if (body === null) return [];
  if (!Array.isArray(body))
    throw new BackendError(
      BACKEND,
      'unavailable',
      'Alertmanager returned an unexpected body (expected a list)',
    );
  return body as Record<string, unknown>[];
}

function strings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object')
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function toAlert(a: Record<string, unknown>): Alert {
  const status = (a.status ?? {}) as Record<string, unknown>;
  const state =
    status.state === 'suppressed' || status.state === 'unprocessed' ? (status.state as AlertState) : 'active';
  return dropUndefined({
    fingerprint: str(a.fingerprint),
    labels: strings(a.labels),
    annotations: strings(a.annotations),
    startsAt: str(a.startsAt),
    endsAt: optString(a.endsAt),
    updatedAt: optString(a.updatedAt),
    generatorURL: optString(a.generatorURL),
    receivers: Array.isArray(a.receivers) ? a.receivers.map((r) => str((r as { name?: unknown }).name)) : [],
    status: { state, silencedBy: stringList(status.silencedBy), inhibitedBy: stringList(status.inhibitedBy) },
  });
}

function toSilence(s: Record<string, unknown>): Silence {
  const raw = ((s.status ?? {}) as { state?: unknown }).state;
  const state: Silence['state'] = raw === 'pending' || raw === 'expired' ? raw : 'active';
  return dropUndefined<Silence>({
    id: str(s.id),
    state,
    matchers: Array.isArray(s.matchers)
      ? s.matchers.map((m: Record<string, unknown>) => ({
          name: str(m.name),
          value: str(m.value),
          isRegex: m.isRegex === true,
          isEqual: m.isEqual !== false,
        }))
      : [],
    startsAt: str(s.startsAt),
    endsAt: str(s.endsAt),
    updatedAt: optString(s.updatedAt),
    createdBy: str(s.createdBy),
    comment: str(s.comment),
  });
}
