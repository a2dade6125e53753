import type { Deps } from '../../contract/deps.js';
import { gather, type Gap } from '../context/gather.js';
import { day2Actions, type Day2Action } from '../context/changes/day2-writes.js';
import { IncidentRecords } from './incident-record.js';
import { computeMetrics, type Day2Metrics, type ExternalChange } from './metrics.js';

export const METRICS_WINDOW_MS = 30 * 86_400_000;
export const CHANGE_FAILURE_WINDOW_MS = 60 * 60_000;
/** A rollout within this distance of a day2 write on the same service is that write's doing. */
const EXPLAINED_MS = 5 * 60_000;

/** Reads incidents, day2's audited writes and the backends' own change history, then computes the metrics. */
export async function collectMetrics(
  deps: Deps,
  windowMs = METRICS_WINDOW_MS,
): Promise<Day2Metrics & { gaps: Gap[] }> {
  const now = deps.clock.now();
  const since = new Date(now.getTime() - windowMs).toISOString();
  const [incidents, actions] = await Promise.all([
    new IncidentRecords(deps.store).list(),
    day2Actions(deps.store, { since, limit: 5000 }),
  ]);
  const { external, gaps } = await externalChanges(deps, since, actions);
  return {
    ...computeMetrics({
      incidents,
      actions,
      external,
      now,
      windowMs,
      failureWindowMs: CHANGE_FAILURE_WINDOW_MS,
    }),
    gaps,
  };
}

async function externalChanges(
  deps: Deps,
  since: string,
  actions: Day2Action[],
): Promise<{ external: ExternalChange[]; gaps: Gap[] }> {
  type Found = ExternalChange & { key: string };
  const tasks: { backend: string; env?: string; run: () => Promise<Found[]> }[] = [];
  for (const env of Object.keys(deps.config.environments)) {
    if (deps.backends.has(env, 'kubernetes')) {
      const k8s = deps.backends.kubernetes(env);
      for (const ns of k8s.namespaces)
        tasks.push({
          backend: 'kubernetes',
          env,
          run: async () =>
            (await k8s.listReplicaSets(ns))
              .filter((r) => r.createdAt && r.createdAt >= since)
              .map((r) => {
                const deployment = r.replicaSet.replace(/-[a-z0-9]+$/, '');
                const service = deps.catalog.resolver.workloadService(env, ns, deployment)?.id ?? deployment;
                return {
                  key: `rs:${env}/${ns}/${r.replicaSet}`,
                  at: r.createdAt!,
                  env,
                  service,
                  kind: 'rollout' as const,
                };
              }),
        });
    }
    if (deps.backends.has(env, 'alertmanager')) {
      const am = deps.backends.alertmanager(env);
      tasks.push({
        backend: 'alertmanager',
        env,
        run: async () =>
          (await am.listSilences())
            .filter((s) => !s.createdBy.startsWith('day2:') && s.startsAt >= since)
            .map((s) => ({ key: `silence:${s.id}`, at: s.startsAt, env, kind: 'silence' as const })),
      });
    }
    if (deps.backends.has(env, 'datadog')) {
      const dd = deps.backends.datadog(env);
      tasks.push({
        backend: 'datadog',
        env,
        run: async () =>
          (await dd.listDowntimes({ currentOnly: false }))
            .filter((d) => !(d.message ?? '').startsWith('day2') && (d.start ?? '') >= since)
            .map((d) => ({ key: `downtime:${d.id}`, at: d.start!, env, kind: 'downtime' as const })),
      });
    }
  }
  const { results, gaps } = await gather(tasks, deps.config.backends.timeout);
  const seen = new Set<string>();
  const external: ExternalChange[] = [];
  for (const c of results.flatMap((r) => r.value)) {
    // One Alertmanager or Datadog org can serve several environments: count each object once.
    if (seen.has(c.key)) continue;
    seen.add(c.key);
    if (
      c.kind === 'rollout' &&
      actions.some(
        (a) =>
          a.env === c.env &&
          a.service === c.service &&
          Math.abs(Date.parse(a.at) - Date.parse(c.at)) <= EXPLAINED_MS,
      )
    )
      continue;
    external.push({ at: c.at, env: c.env, service: c.service, kind: c.kind });
  }
  return { external, gaps };
}
