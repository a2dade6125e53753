import type { Deps } from '../../contract/deps.js';
import type { Gap } from '../context/gather.js';
import { serviceOf } from '../context/deployments.js';
import type { DeploymentInfo } from '../../providers/kubernetes/types.js';
import { analyzeCost, type CostAnalysis, type Owner } from './analyze.js';
import { pricesFor, type Prices } from './prices.js';
import { snapshotEnv, type EnvSnapshot, type SnapshotOptions } from './snapshot.js';

export interface EnvCost {
  env: string;
  prices: Prices;
  analysis: CostAnalysis;
  snapshot: EnvSnapshot;
}

export const DEFAULT_IDLE_CPU_MILLICORES = 20;

/** The service and owning team of a deployment: the catalog first, then its owner label or annotation. */
export function ownerOf(deps: Deps, env: string, d: DeploymentInfo): Owner {
  const service = serviceOf(deps, env, d);
  const owner =
    deps.catalog.service(service)?.owner ?? d.labels['day2.dev/owner'] ?? d.annotations['day2.dev/owner'];
  return owner ? { service, owner } : { service };
}

/** Snapshots and analyses each environment (those with Kubernetes), in parallel. */
export async function costOf(
  deps: Deps,
  envs: string[],
  opts: Omit<SnapshotOptions, 'namespaces'> & { namespaces?: string[] },
): Promise<{ envs: EnvCost[]; gaps: Gap[] }> {
  const idle = deps.config.cost?.idle_cpu_millicores ?? DEFAULT_IDLE_CPU_MILLICORES;
  const per = await Promise.all(
    envs
      .filter((env) => deps.backends.has(env, 'kubernetes'))
      .map(async (env) => {
        const snapshot = await snapshotEnv(deps, env, opts);
        const prices = pricesFor(deps.config, env);
        const analysis = analyzeCost(snapshot, {
          prices,
          idleCpuMillicores: idle,
          ownerOf: (e, d) => ownerOf(deps, e, d),
        });
        return { env, prices, analysis, snapshot };
      }),
  );
  return { envs: per, gaps: per.flatMap((p) => p.snapshot.gaps) };
}
