import type { Logger } from '../core/log.js';
import { imageWithoutDigest, type FleetAlert, type FleetMonitor } from './fleet-schema.js';
import type { Sandbox } from './start-sandbox.js';
import type { KubeObject } from './kubernetes/types.js';

/** A deployment that ran a bad image with effect `errors` when the sandbox started, and what fires because of it. */
interface Tie {
  env: string;
  namespace: string;
  deployment: string;
  service: string;
  badImages: Set<string>;
  alerts: FleetAlert[];
  monitors: { monitor: FleetMonitor; state: FleetMonitor['overall_state'] }[];
  /** Whether the bad image runs now, as last seen. */
  running: boolean;
}

export interface AlertReconciler {
  /** Looks at the clusters now and resolves (or re-fires) the tied alerts; resolves when done. */
  reconcileNow(): Promise<void>;
  stop(): void;
}

/**
 * Links "a bad image with effect `errors` is running" to the alerts the fleet raises for it. When the
 * deployment no longer runs the bad image (no pod and no template has it, e.g. after a rollback),
 * the Datadog monitors of its service go OK and its Alertmanager alerts (labels service=<svc> or
 * upstream=<svc>) are posted resolved (endsAt now); the fleet's alert is marked ended so that the
 * sandbox's re-poster stops re-firing it. When the bad image runs again, they fire again.
 * Reads the emulators' object stores directly, so that fault injection never disturbs it.
 */
export function startAlertReconciler(
  sandbox: Sandbox,
  opts: { everyMs?: number; log?: Logger } = {},
): AlertReconciler {
  const fleet = sandbox.fleet.fleet;
  const errorImages = new Set(
    fleet.bad_images.filter((b) => b.effect === 'errors').map((b) => imageWithoutDigest(b.image)),
  );
  const ties: Tie[] = [];
  for (const [env, e] of Object.entries(fleet.environments)) {
    const emu = sandbox.emulators.kubernetes[env];
    if (!emu) continue;
    for (const d of e.deployments) {
      if (!errorImages.has(imageWithoutDigest(d.image))) continue;
      const svc = sandbox.catalog.resolver.workloadService(env, d.namespace, d.name, d.labels);
      // The names its alerts and monitors may carry: every name the catalog's resolver knows it by.
      const names = new Set([
        d.labels['app.kubernetes.io/name'] ?? d.name,
        d.name,
        ...(svc ? sandbox.catalog.resolver.namesOf(svc.id, env) : []),
      ]);
      ties.push({
        env,
        namespace: d.namespace,
        deployment: d.name,
        service: svc?.id ?? d.name,
        badImages: new Set([imageWithoutDigest(d.image)]),
        alerts: e.alerts.filter(
          (a) =>
            a.ends_at === undefined &&
            (names.has(a.labels.service ?? '') || names.has(a.labels.upstream ?? '')),
        ),
        monitors: e.monitors
          .filter(
            (m) =>
              (m.overall_state === 'Alert' || m.overall_state === 'Warn') &&
              m.tags.some((t) => names.has(t.replace(/^service:/, '')) && t.startsWith('service:')),
          )
          .map((m) => ({ monitor: m, state: m.overall_state })),
        running: true,
      });
    }
  }

  let busy: Promise<void> | undefined;
  const pass = async (): Promise<void> => {
    for (const t of ties) {
      const running = runsBadImage(sandbox, t);
      if (running === t.running) continue;
      t.running = running;
      await apply(sandbox, t, running, opts.log);
    }
  };
  // One pass at a time; a caller arriving during a pass waits for it and then runs its own.
  const reconcileNow = async (): Promise<void> => {
    while (busy) await busy.catch(() => undefined);
    const current = pass();
    busy = current;
    try {
      await current;
    } finally {
      if (busy === current) busy = undefined;
    }
  };

  const timer = setInterval(() => {
    reconcileNow().catch((err: unknown) =>
      opts.log?.warn('sandbox: alert reconciler failed', { error: err }),
    );
  }, opts.everyMs ?? 250);
  timer.unref();
  return { reconcileNow, stop: () => clearInterval(timer) };
}

function runsBadImage(sandbox: Sandbox, t: Tie): boolean {
  const store = sandbox.emulators.kubernetes[t.env]!.store;
  const d = store.get('apps/v1', 'Deployment', t.namespace, t.deployment);
  if (!d) return false;
  const spec = d.spec as {
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { containers?: { image?: string }[] } };
  };
  const bad = (img: string | undefined) => img !== undefined && t.badImages.has(imageWithoutDigest(img));
  if ((spec.template?.spec?.containers ?? []).some((c) => bad(c.image))) return true;
  const selector = spec.selector?.matchLabels ?? {};
  return store
    .list('v1', 'Pod', t.namespace)
    .filter((p) => matches(selector, p) && !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp)
    .some((p) =>
      ((p.spec as { containers?: { image?: string }[] }).containers ?? []).some((c) => bad(c.image)),
    );
}

function matches(selector: Record<string, string>, o: KubeObject): boolean {
  const labels = o.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

async function apply(sandbox: Sandbox, t: Tie, firing: boolean, log: Logger | undefined): Promise<void> {
  const now = new Date();
  for (const { monitor, state } of t.monitors) {
    sandbox.emulators.datadog.monitors.setState(monitor.id, firing ? state : 'OK');
  }
  for (const a of t.alerts) {
    // The fleet data is what the sandbox's re-poster sends: an ended alert is no longer re-fired.
    if (firing) {
      a.starts_at = now;
      delete a.ends_at;
    } else a.ends_at = now;
  }
  if (t.alerts.length > 0 && sandbox.backends.has(t.env, 'alertmanager')) {
    await sandbox.backends.alertmanager(t.env).postAlerts(
      t.alerts.map((a) => ({
        labels: { ...a.labels, env: t.env },
        annotations: { ...a.annotations },
        startsAt: a.starts_at,
        endsAt: firing ? new Date(now.getTime() + 24 * 3_600_000) : now,
        ...(a.generator_url ? { generatorURL: a.generator_url } : {}),
      })),
    );
  }
  log?.info(
    `sandbox: ${t.env}/${t.service} ${firing ? 'runs' : 'no longer runs'} a bad image; ${t.alerts.length + t.monitors.length} alert(s) ${firing ? 'firing' : 'resolved'}`,
  );
}
