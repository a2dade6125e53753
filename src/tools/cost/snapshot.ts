import type { Deps } from '../../contract/deps.js';
import { gather, type Gap } from '../context/gather.js';
import type {
  ConfigMapInfo,
  DeploymentInfo,
  EndpointsInfo,
  HpaInfo,
  KubeResource,
  PodUsage,
  PvcInfo,
  SecretInfo,
  ServiceInfo,
} from '../../providers/kubernetes/types.js';

/** What one namespace looked like for a cost analysis. Every list is as the API returned it. */
export interface NamespaceSnapshot {
  namespace: string;
  deployments: DeploymentInfo[];
  /** One entry per metrics.k8s.io snapshot taken. */
  usage: PodUsage[][];
  /** The raw Deployments, for the volumes, env and envFrom that reference other objects; absent when orphans are not wanted. */
  rawDeployments?: KubeResource[];
  pvcs?: PvcInfo[];
  services?: ServiceInfo[];
  endpoints?: EndpointsInfo[];
  secrets?: SecretInfo[];
  configMaps?: ConfigMapInfo[];
  hpas?: HpaInfo[];
}

export interface EnvSnapshot {
  env: string;
  namespaces: NamespaceSnapshot[];
  gaps: Gap[];
}

export interface SnapshotOptions {
  /** Also read PVCs, Services, Endpoints, Secrets (metadata), ConfigMaps and raw Deployments. */
  orphans: boolean;
  /** Also read HorizontalPodAutoscalers. */
  hpas?: boolean;
  namespaces?: string[];
  signal?: AbortSignal;
}

/**
 * Reads one environment for cost analysis, one namespace at a time in parallel. metrics.k8s.io
 * serves point-in-time usage only (a rate over the kubelet's last 15 s to 1 min); with
 * `cost.samples` > 1, day2 takes that many snapshots spread over `cost.window`.
 */
export async function snapshotEnv(deps: Deps, env: string, opts: SnapshotOptions): Promise<EnvSnapshot> {
  const k8s = deps.backends.kubernetes(env);
  const namespaces = opts.namespaces ?? [...k8s.namespaces];
  const samples = deps.config.cost?.samples ?? 1;
  const spacing = samples > 1 ? (deps.config.cost?.window ?? 60_000) / (samples - 1) : 0;
  const timeout = deps.config.backends.timeout;
  const gaps: Gap[] = [];
  const usage = new Map<string, PodUsage[][]>(namespaces.map((ns) => [ns, []]));

  const metricsRound = async () => {
    const { results, gaps: g } = await gather(
      namespaces.map((ns) => ({
        backend: 'kubernetes',
        env,
        run: async () => ({ ns, pods: await k8s.podMetrics(ns) }),
      })),
      timeout,
    );
    gaps.push(...g.map((x) => ({ ...x, reason: `metrics.k8s.io: ${x.reason}` })));
    for (const r of results) usage.get(r.value.ns)!.push(r.value.pods);
  };

  const read = gather(
    namespaces.map((ns) => ({
      backend: 'kubernetes',
      env,
      run: async (): Promise<Omit<NamespaceSnapshot, 'usage'>> => {
        const [deployments, rawDeployments, pvcs, services, endpoints, secrets, configMaps, hpas] =
          await Promise.all([
            k8s.listDeployments(ns),
            opts.orphans ? k8s.listObjects('apps/v1', 'Deployment', ns) : undefined,
            opts.orphans ? k8s.listPvcs(ns) : undefined,
            opts.orphans ? k8s.listServices(ns) : undefined,
            opts.orphans ? k8s.listEndpoints(ns) : undefined,
            opts.orphans ? k8s.listSecrets(ns) : undefined,
            opts.orphans ? k8s.listConfigMaps(ns) : undefined,
            opts.hpas ? k8s.listHpas(ns) : undefined,
          ]);
        return {
          namespace: ns,
          deployments,
          rawDeployments,
          pvcs,
          services,
          endpoints,
          secrets,
          configMaps,
          hpas,
        };
      },
    })),
    timeout,
  );
  const sampling = (async () => {
    for (let i = 0; i < samples; i++) {
      if (i > 0) await sleep(spacing, opts.signal);
      await metricsRound();
    }
  })();
  const [{ results, gaps: readGaps }] = await Promise.all([read, sampling]);
  gaps.push(...readGaps);
  return {
    env,
    namespaces: results.map((r) => ({ ...r.value, usage: usage.get(r.value.namespace) ?? [] })),
    gaps,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
