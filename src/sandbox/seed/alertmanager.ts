import type { Fleet } from '../fleet-schema.js';
import type { AlertmanagerProvider, PostableAlert } from '../../providers/alertmanager/types.js';
import type { Logger } from '../../core/log.js';

/** How far ahead endsAt is set on firing alerts: far enough that re-posting keeps them active. */
const FIRING_HORIZON_MS = 24 * 3_600_000;

/**
 * The fleet's Alertmanager alerts, every environment in one list (each labelled env=<env> by the
 * fleet). Firing alerts get an endsAt a day ahead so that Alertmanager does not resolve them
 * between re-posts; resolved ones keep theirs.
 */
export function alertmanagerAlerts(fleet: Fleet, now: Date): PostableAlert[] {
  return Object.entries(fleet.environments).flatMap(([envName, env]) =>
    env.alerts.map((a) => ({
      labels: { ...a.labels, env: envName },
      annotations: { ...a.annotations },
      startsAt: a.starts_at,
      // Alertmanager runs on wall-clock time, whatever clock the fleet was resolved against.
      endsAt: a.ends_at ?? new Date(Math.max(now.getTime(), Date.now()) + FIRING_HORIZON_MS),
      ...(a.generator_url ? { generatorURL: a.generator_url } : {}),
    })),
  );
}

/**
 * Posts the fleet's alerts now and again every `everyMs` (unref'd timer) so that they stay
 * firing, as Prometheus keeps re-sending active alerts. Alerts the fleet marks resolved are sent
 * once. Returns a function that stops the re-posting.
 */
export async function keepAlertsFiring(
  provider: AlertmanagerProvider,
  fleet: Fleet,
  opts: { now: () => Date; everyMs?: number; log: Logger },
): Promise<() => void> {
  await provider.postAlerts(alertmanagerAlerts(fleet, opts.now()));
  const timer = setInterval(() => {
    const firing = alertmanagerAlerts(fleet, opts.now()).filter((a) => {
      const end = a.endsAt instanceof Date ? a.endsAt : new Date(a.endsAt ?? 0);
      return end.getTime() > Date.now();
    });
    provider.postAlerts(firing).catch((err: unknown) => {
      opts.log.warn('sandbox: re-posting alerts to Alertmanager failed', { error: err });
    });
  }, opts.everyMs ?? 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
