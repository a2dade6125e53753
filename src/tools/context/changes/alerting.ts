import type { Silence } from '../../../providers/alertmanager/types.js';
import { compileMatcher, formatMatcher } from '../../../providers/alertmanager/matchers.js';
import type { DatadogDowntime } from '../../../providers/datadog/types.js';
import { untrusted } from '../gather.js';
import type { LedgerEntry } from './change.js';

const SERVICE_LABELS = ['service', 'app', 'job'];

/**
 * Alertmanager silences of `env` (the real Alertmanager keeps expired ones for its retention, so
 * this is history too). One Alertmanager often serves several environments: a silence belongs to
 * `env` when its `env` matcher selects it, or when it has none.
 */
export function silenceEntries(env: string, silences: readonly Silence[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const s of silences) {
    const envMatchers = s.matchers.filter((m) => m.name === 'env');
    if (envMatchers.length && !envMatchers.every((m) => selects(m, env))) continue;
    const service = s.matchers.find(
      (m) => SERVICE_LABELS.includes(m.name) && !m.isRegex && (m.isEqual ?? true),
    )?.value;
    const day2 = s.createdBy.startsWith('day2:');
    const at = Date.parse(s.startsAt);
    out.push({
      id: `silence:${s.id}`,
      at: s.startsAt,
      sortAt: Number.isNaN(at) ? 0 : at,
      kind: 'silence',
      env,
      ...(service ? { service: untrusted(service, 80) } : {}),
      what: `silence ${untrusted(s.matchers.map(formatMatcher).join(', '), 160)} until ${s.endsAt}${s.state === 'active' ? '' : ` (${s.state})`}: ${untrusted(s.comment, 120)}`,
      by: untrusted(day2 ? s.createdBy.slice(5) : s.createdBy, 80) || 'unknown',
      by_how: 'createdBy',
      day2,
    });
  }
  return out;
}

/**
 * Datadog downtimes of `env`, cancelled and past ones included: scoped to `env` by an `env:` tag in
 * their scope, or by having none. day2 writes its principal at the head of the message.
 */
export function downtimeEntries(env: string, downtimes: readonly DatadogDowntime[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const d of downtimes) {
    const tags = d.scope.split(/[\s,]+/).filter(Boolean);
    const envTags = tags.filter((t) => t.startsWith('env:'));
    if (envTags.length && !envTags.includes(`env:${env}`)) continue;
    const service = [...tags, ...(d.monitorTags ?? [])]
      .find((t) => t.startsWith('service:'))
      ?.slice('service:'.length);
    const by = /^day2 \(([^)]+)\):/.exec(d.message ?? '')?.[1];
    const at = d.created ?? d.start ?? null;
    const ms = at ? Date.parse(at) : NaN;
    out.push({
      id: `downtime:${d.id}`,
      at,
      sortAt: Number.isNaN(ms) ? 0 : ms,
      kind: 'downtime',
      env,
      ...(service ? { service: untrusted(service, 80) } : {}),
      what: `downtime of ${d.monitorId !== null ? `monitor ${d.monitorId}` : `monitors tagged ${(d.monitorTags ?? []).join(',')}`} on ${untrusted(d.scope, 80)} until ${d.end ?? 'cancelled'}${d.canceled ? ` (cancelled ${d.canceled})` : ''}${d.message ? `: ${untrusted(d.message, 120)}` : ''}`,
      by: by ? untrusted(by, 80) : 'unknown',
      by_how: by ? 'createdBy' : 'unknown',
      day2: by !== undefined,
    });
  }
  return out;
}

function selects(m: Silence['matchers'][number], value: string): boolean {
  try {
    return compileMatcher(m)({ [m.name]: value });
  } catch {
    return false;
  }
}
