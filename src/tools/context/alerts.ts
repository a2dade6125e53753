import type { Deps } from '../../contract/deps.js';
import { gather, untrusted, type Gap } from './gather.js';
import { alertmanagerSilenceId, datadogDowntimeId } from './silence-id.js';

/** Datadog monitors in Alert/Warn and Alertmanager alerts, in one shape. */
export interface DayAlert {
  id: string;
  source: 'datadog' | 'alertmanager';
  env: string;
  /** The catalog service or resource the alert belongs to, else the backend's own name. */
  service: string | null;
  /** The backend's name for it where that differs (a Datadog service such as edge-gateway). */
  backend_service?: string;
  name: string;
  severity: 'critical' | 'warning' | 'info';
  since: string | null;
  /** The alert's own text (annotation, monitor message): untrusted data, never instructions. */
  summary: string;
  silenced_by: string[];
  runbook?: string;
  /** The alert's labels (Alertmanager) or tags (Datadog), bounded: what a silence's matchers select on. */
  labels: Record<string, string>;
}

/** At most this many labels per alert, each value clipped: enough to write a matcher, not a dump. */
export const MAX_LABELS = 20;
const MAX_LABEL_VALUE = 100;

function boundedLabels(pairs: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of [...pairs].sort(([a], [b]) => a.localeCompare(b))) {
    const key = untrusted(k, 60);
    if (!key) continue;
    if (key in out) out[key] = untrusted(`${out[key]},${v}`, MAX_LABEL_VALUE);
    else if (Object.keys(out).length < MAX_LABELS) out[key] = untrusted(v, MAX_LABEL_VALUE);
  }
  return out;
}

/** Datadog tags as labels: `service:checkout` becomes service=checkout, a bare tag an empty value. */
function tagLabels(tags: string[]): Record<string, string> {
  return boundedLabels(
    tags.map((t) => {
      const i = t.indexOf(':');
      return i < 0 ? [t, ''] : [t.slice(0, i), t.slice(i + 1)];
    }),
  );
}

export interface AlertQuery {
  env?: string;
  /** A catalog node id, as the resolver gives it. */
  service?: string;
}

/** Every active alert across the configured environments (or one), with gaps for silent backends. */
export async function collectAlerts(
  deps: Deps,
  q: AlertQuery = {},
): Promise<{ alerts: DayAlert[]; gaps: Gap[] }> {
  const envs = q.env ? [q.env] : Object.keys(deps.config.environments);
  const tasks = envs.flatMap((env) => [
    ...(deps.backends.has(env, 'datadog')
      ? [
          {
            backend: 'datadog',
            env,
            run: async () => fromDatadog(deps, env, await deps.backends.datadog(env).activeAlerts()),
          },
        ]
      : []),
    ...(deps.backends.has(env, 'alertmanager')
      ? [
          {
            backend: 'alertmanager',
            env,
            run: async () =>
              fromAlertmanager(
                deps,
                env,
                await deps.backends.alertmanager(env).listAlerts({ inhibited: false }),
              ),
          },
        ]
      : []),
  ]);
  const { results, gaps } = await gather(tasks, deps.config.backends.timeout);
  let alerts = results.flatMap((r) => r.value);
  if (q.service) alerts = alerts.filter((a) => a.service === q.service);
  alerts.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      (b.since ?? '').localeCompare(a.since ?? '') ||
      a.id.localeCompare(b.id),
  );
  return { alerts, gaps };
}

function severityRank(s: DayAlert['severity']): number {
  return s === 'critical' ? 0 : s === 'warning' ? 1 : 2;
}

type DatadogAlerts = Awaited<ReturnType<ReturnType<Deps['backends']['datadog']>['activeAlerts']>>;
type AmAlerts = Awaited<ReturnType<ReturnType<Deps['backends']['alertmanager']>['listAlerts']>>;

/**
 * The service an alert belongs to, through the catalog's resolver: the first of the backend's
 * names that the catalog knows, else the first name there is.
 */
function attributed(
  deps: Deps,
  env: string,
  names: (string | null | undefined)[],
): Pick<DayAlert, 'service' | 'backend_service'> {
  const given = names.filter((n): n is string => Boolean(n));
  for (const name of given) {
    const id = deps.catalog.resolver.attribute(name, env);
    if (id !== undefined)
      return { service: id, ...(id !== name ? { backend_service: untrusted(name, 120) } : {}) };
  }
  return { service: given[0] !== undefined ? untrusted(given[0], 120) : null };
}

function fromDatadog(deps: Deps, env: string, list: DatadogAlerts): DayAlert[] {
  return list
    .filter((a) => a.env === null || a.env === env)
    .map((a) => ({
      id: `datadog:${a.monitorId}`,
      source: 'datadog' as const,
      env,
      ...attributed(deps, env, [a.service]),
      name: untrusted(a.name, 120),
      severity: a.state === 'alert' ? ('critical' as const) : ('warning' as const),
      since: a.since,
      summary: untrusted(a.summary),
      silenced_by: a.downtimes.length
        ? a.downtimes.map((d) => datadogDowntimeId(d.id))
        : a.muted
          ? ['datadog-mute']
          : [],
      labels: tagLabels(a.tags),
    }));
}

function fromAlertmanager(deps: Deps, env: string, list: AmAlerts): DayAlert[] {
  return list
    .filter(
      (a) => a.endsAt === undefined || Date.parse(a.endsAt) > Date.now() || a.status.state !== 'unprocessed',
    )
    .filter((a) => !a.labels.env || a.labels.env === env)
    .map((a) => {
      const sev = (a.labels.severity ?? '').toLowerCase();
      return {
        id: `alertmanager:${a.fingerprint}`,
        source: 'alertmanager' as const,
        env,
        ...attributed(deps, env, [a.labels.service, a.labels.app, a.labels.job]),
        name: untrusted(a.labels.alertname ?? 'alert', 120),
        severity:
          sev === 'critical' || sev === 'page'
            ? ('critical' as const)
            : sev === 'warning'
              ? ('warning' as const)
              : ('info' as const),
        since: a.startsAt,
        // Both texts, summary first: the description often carries what the summary leaves out.
        summary: untrusted(
          [a.annotations.summary, a.annotations.description].filter(Boolean).join(' — '),
          400,
        ),
        silenced_by: a.status.silencedBy.map(alertmanagerSilenceId),
        runbook: a.annotations.runbook_url ? untrusted(a.annotations.runbook_url, 300) : undefined,
        labels: boundedLabels(Object.entries(a.labels)),
      };
    });
}

export type AlertStatus = 'firing' | 'ok' | 'unknown';

/**
 * The alert state of catalog nodes: `firing` with unsilenced alerts attributed to the node, `ok`
 * without, `unknown` when an alert source did not answer (a gap) and none fired.
 */
export function alertStates(
  alerts: DayAlert[],
  gaps: Gap[],
): (id: string) => { alert_status: AlertStatus; alerts: number } {
  const firing = new Map<string, number>();
  for (const a of alerts)
    if (a.service && a.silenced_by.length === 0) firing.set(a.service, (firing.get(a.service) ?? 0) + 1);
  return (id) => {
    const count = firing.get(id) ?? 0;
    return { alert_status: count > 0 ? 'firing' : gaps.length === 0 ? 'ok' : 'unknown', alerts: count };
  };
}
