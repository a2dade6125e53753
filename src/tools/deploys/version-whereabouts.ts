import { z } from 'zod';
import type { Deps } from '../../contract/deps.js';
import { parseImageRef } from '../../providers/registry/index.js';
import { collectAlerts } from '../context/alerts.js';
import { collectDeployments } from '../context/deployments.js';
import { gapReason, type Gap } from '../context/gather.js';

/** Alert names listed per environment a version runs in. */
const ALERTS_PER_ENV = 3;

export const whereaboutsShape = {
  runs_in: z
    .array(
      z.object({
        env: z.string(),
        since: z.string().optional().describe('when it was rolled out there'),
        alerts: z.array(z.string()).describe('active alerts of the service there (names, at most 3)'),
        alert_count: z.number(),
      }),
    )
    .optional()
    .describe('environments running this version now'),
  ran_in: z
    .array(z.object({ env: z.string(), revision: z.number(), at: z.string().optional() }))
    .optional()
    .describe('environments whose rollout history holds this version, not running it now'),
  never_ran_in: z
    .array(z.string())
    .optional()
    .describe(
      "environments where the service runs and this version never did (by their ReplicaSets' history)",
    ),
};

export interface Whereabouts {
  runs_in: { env: string; since?: string; alerts: string[]; alert_count: number }[];
  ran_in: { env: string; revision: number; at?: string }[];
  never_ran_in: string[];
}

/**
 * Where versions of a service's image run or ran, across every environment: the Deployments
 * running each tag now (with the service's active alerts there), the ReplicaSet history holding
 * it, and the environments it never reached. One read of deployments and alerts, one ReplicaSet
 * list per environment the service runs in.
 */
export async function versionWhereabouts(
  deps: Deps,
  service: string,
  image: string,
  tags: readonly string[],
): Promise<{ byTag: Map<string, Whereabouts>; gaps: Gap[] }> {
  const repo = parseImageRef(image).repository;
  const [{ rows, gaps }, alerts] = await Promise.all([
    collectDeployments(deps),
    collectAlerts(deps, { service }),
  ]);
  const out: Gap[] = [...gaps, ...alerts.gaps];
  const mine = rows.filter((r) => r.service === service && parseImageRef(r.image).repository === repo);
  const history = new Map<string, { tag: string; revision: number; at?: string }[]>();
  await Promise.all(
    mine.map(async (r) => {
      try {
        const sets = await deps.backends
          .kubernetes(r.env)
          .listReplicaSets(r.namespace, undefined, r.deployment);
        const seen = history.get(r.env) ?? [];
        for (const rs of sets)
          for (const i of rs.images) {
            const ref = parseImageRef(i.image);
            if (ref.repository === repo && ref.tag)
              seen.push({ tag: ref.tag, revision: rs.revision, at: rs.createdAt });
          }
        history.set(r.env, seen);
      } catch (err) {
        out.push({ backend: 'kubernetes', env: r.env, reason: gapReason(err) });
      }
    }),
  );
  const envs = [...new Set(mine.map((r) => r.env))].sort();
  const byTag = new Map<string, Whereabouts>();
  for (const tag of tags) {
    const running = mine.filter((r) => parseImageRef(r.image).tag === tag);
    const runs_in = running.map((r) => {
      const here = alerts.alerts.filter((a) => a.env === r.env);
      return {
        env: r.env,
        since: r.last_rollout,
        alerts: here.slice(0, ALERTS_PER_ENV).map((a) => `${a.severity}: ${a.name}`),
        alert_count: here.length,
      };
    });
    const runningEnvs = new Set(running.map((r) => r.env));
    const ran_in = envs
      .filter((env) => !runningEnvs.has(env))
      .flatMap((env) => {
        const last = (history.get(env) ?? [])
          .filter((h) => h.tag === tag)
          .sort((a, b) => b.revision - a.revision)[0];
        return last ? [{ env, revision: last.revision, at: last.at }] : [];
      });
    const ranEnvs = new Set(ran_in.map((r) => r.env));
    byTag.set(tag, {
      runs_in,
      ran_in,
      never_ran_in: envs.filter((env) => !runningEnvs.has(env) && !ranEnvs.has(env) && history.has(env)),
    });
  }
  return { byTag, gaps: out };
}

/** "runs in staging since 2026-…Z (2 alerts: …); ran in dev (revision 4); never ran in prod". */
export function whereaboutsLine(w: Whereabouts): string {
  const parts: string[] = [];
  for (const r of w.runs_in)
    parts.push(
      `runs in ${r.env}${r.since ? ` since ${r.since.slice(0, 16)}Z` : ''}${r.alert_count ? ` (${r.alert_count} alert(s) there: ${r.alerts.join('; ')})` : ' (no alerts there)'}`,
    );
  for (const r of w.ran_in) parts.push(`ran in ${r.env} (revision ${r.revision})`);
  if (w.never_ran_in.length) parts.push(`never ran in ${w.never_ran_in.join(', ')}`);
  return parts.join('; ');
}
