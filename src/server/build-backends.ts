import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { Catalog } from '../catalog/catalog.js';
import { CatalogLoadError, loadCatalog } from '../catalog/load-catalog.js';
import { mergeKubernetesLabels, type KubernetesWorkloadLabels } from '../catalog/kubernetes-labels.js';
import type { Clock } from '../core/clock.js';
import { withTimeout } from '../core/with-timeout.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { EnvironmentConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { Redactor } from '../core/redact.js';
import type { Backends } from '../providers/backends.js';
import { realBackends } from '../providers/real-backends.js';
import { sdkImported, sdkLoaded } from '../providers/sdk-loads.js';
import type { BindingScan } from '../tools/access/reaper.js';
import { readClustersAtStart, workloadLabelsSchema, type BackendConnection } from './cluster-read-process.js';

export interface BackendOptions {
  /** Start the built-in emulators (`day2 serve --sandbox`). */
  sandbox?: boolean;
  /** A fleet file for the sandbox; default `sandbox.fleet` from the config, else the built-in demo fleet. */
  fleet?: string;
  log: Logger;
  /** The runtime's redactor: the providers register the secret values they handle with it. */
  redactor: Redactor;
  clock?: Clock;
  /**
   * Where credentials named in the config are read (DD_API_KEY, url_env, ...), and
   * DAY2_SANDBOX_POSTGRES (the sandbox's PostgreSQL admin URL, or `off`): the CLI's environment.
   */
  env: NodeJS.ProcessEnv;
  /**
   * Read the clusters at start-up (the catalog's live labels) from a short-lived child process
   * while this process has not loaded the Kubernetes client (`day2 serve`, whose idle memory it
   * is); other commands read them in-process.
   */
  clusterReadsInChild?: boolean;
}

export interface BuiltBackends {
  backends: Backends;
  /** The service catalog: the fleet's in the sandbox, `catalog.paths` otherwise. */
  catalog: Catalog;
  /**
   * Environments the sandbox synthesized (empty for real backends). They must be merged into the
   * configuration before buildRuntime: use `withEnvironments(loaded, built)`.
   */
  environments: Record<string, EnvironmentConfig>;
  /** The sandbox fleet's rotation policy, which replaces config `rotation.max_age_days`/`warn_days`. */
  rotation?: { max_age_days: number; warn_days: number };
  /**
   * Settles if the process that serves the backends (`day2 sandbox` for serve --sandbox) ends
   * while they are in use, saying how; never for real backends.
   */
  lost?: Promise<string>;
  /**
   * The day2 RoleBindings read with the live labels at start-up (by a child process; see
   * withLiveLabels), for the access reaper's first pass; absent when they were not read.
   */
  startBindings?: BindingScan;
  /**
   * What another day2 process needs to reach the same backends (the reaper's cluster scan runs in
   * one): the effective configuration, the folder its paths resolve against, and the environment
   * its credentials are read from.
   */
  connection: BackendConnection;
  /** Stops emulators and closes backend clients. */
  close(): Promise<void>;
  /** A few words for the start-up line, e.g. "sandbox fleet acme-shop (3 environments, 16 services)". */
  describe: string;
}

/**
 * The configuration the runtime must see: the loaded one with the sandbox's environments merged
 * in (a sandbox environment replaces a configured one of the same name) and its fleet's rotation
 * policy.
 */
export function withEnvironments(
  loaded: LoadedConfig,
  built: Pick<BuiltBackends, 'environments' | 'rotation'>,
): LoadedConfig {
  if (Object.keys(built.environments).length === 0 && !built.rotation) return loaded;
  return {
    ...loaded,
    config: {
      ...loaded.config,
      environments: { ...loaded.config.environments, ...built.environments },
      rotation: { ...loaded.config.rotation, ...built.rotation },
    },
  };
}

/** Loads `catalog.paths`; refuses to start on any catalog error, naming each file and path. */
export async function loadConfiguredCatalog(loaded: LoadedConfig): Promise<Catalog> {
  const paths = loaded.config.catalog.paths;
  if (paths.length === 0) return Catalog.empty();
  const result = await loadCatalog(paths, { baseDir: loaded.baseDir });
  if (result.errors.length > 0) throw new CatalogLoadError(result.errors);
  return result.catalog;
}

/**
 * The one place that turns configuration into backends: real providers per environment (built
 * lazily, reads retried) or the sandbox (emulators seeded from a fleet). server.ts and the bench
 * call it; nothing else builds backends.
 */
export async function buildBackends(loaded: LoadedConfig, opts: BackendOptions): Promise<BuiltBackends> {
  const { env } = opts;
  if (opts.sandbox) return sandboxBackends(loaded, opts);
  const catalog = await loadConfiguredCatalog(loaded);
  const backends = realBackends({
    config: loaded.config,
    baseDir: loaded.baseDir,
    env,
    log: opts.log,
    redactor: opts.redactor,
  });
  const envs = Object.keys(loaded.config.environments);
  const connection = { config: loaded.config, baseDir: loaded.baseDir, env };
  const live = await withLiveLabels(
    catalog,
    backends,
    envs,
    loaded.config.backends.timeout,
    opts.log,
    opts.clusterReadsInChild ? connection : undefined,
  );
  return {
    backends,
    catalog: live.catalog,
    environments: {},
    connection,
    startBindings: live.bindings,
    close: () => backends.close(),
    describe: `${envs.length} environment${envs.length === 1 ? '' : 's'}${envs.length ? ` (${envs.join(', ')})` : ''}, ${live.catalog.services().length} catalog services`,
  };
}

/**
 * Every Deployment's labels in each environment's cluster (every configured namespace, else all),
 * each environment bounded by `timeoutMs`; an environment that does not answer in time or fails is
 * a failure, never a reason to stop. In this process (withLiveLabels) or in a cluster-read child.
 */
export async function liveWorkloads(
  backends: Backends,
  envs: readonly string[],
  timeoutMs: number,
): Promise<{ workloads: KubernetesWorkloadLabels[]; failures: { env: string; error: unknown }[] }> {
  const read = async (env: string): Promise<KubernetesWorkloadLabels[]> => {
    const k8s = backends.kubernetes(env);
    const lists = k8s.namespaces.length
      ? await Promise.all(k8s.namespaces.map((ns) => k8s.listDeployments(ns)))
      : [await k8s.listDeployments()];
    return lists.flat().map((d) => ({
      env,
      namespace: d.namespace,
      name: d.name,
      labels: d.labels,
      annotations: d.annotations,
    }));
  };
  const withK8s = envs.filter((env) => backends.has(env, 'kubernetes'));
  if (withK8s.length) await sdkLoaded('kubernetes');
  const results = await Promise.allSettled(
    withK8s.map((env) =>
      withTimeout(read(env), timeoutMs, `Kubernetes in ${env} did not answer within ${timeoutMs} ms`),
    ),
  );
  const workloads: KubernetesWorkloadLabels[] = [];
  const failures: { env: string; error: unknown }[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') workloads.push(...r.value);
    else failures.push({ env: withK8s[i]!, error: r.reason });
  });
  return { workloads, failures };
}

/**
 * The catalog with the live Deployments' labels merged in, as the sandbox's is: a service is then
 * also found by its `app.kubernetes.io/name`, and a workload no catalog file names becomes a service
 * of its own. Read once at start-up; an environment whose cluster does not answer within the
 * backends' timeout is left out with a warning, never a reason not to start. With `inChild`, a
 * server that has not loaded the Kubernetes client reads them from a short-lived child process
 * (cluster-read-process.ts) and stays without it; that child also reads the day2 RoleBindings for
 * the access reaper's first pass (`bindings`).
 */
async function withLiveLabels(
  catalog: Catalog,
  backends: Backends,
  envs: readonly string[],
  timeoutMs: number,
  log: Logger,
  inChild?: BackendConnection,
): Promise<{ catalog: Catalog; bindings?: BindingScan }> {
  const withK8s = envs.filter((env) => backends.has(env, 'kubernetes'));
  if (withK8s.length === 0) return { catalog };
  const live: {
    workloads: KubernetesWorkloadLabels[];
    failures: { env: string; error: unknown }[];
    bindings?: BindingScan;
  } =
    inChild && !sdkImported('kubernetes')
      ? await readClustersAtStart(inChild, withK8s, timeoutMs)
      : await liveWorkloads(backends, withK8s, timeoutMs);
  for (const f of live.failures)
    log.warn(
      'catalog: live workload labels not read; names from app.kubernetes.io/name are not known there',
      {
        env: f.env,
        error: f.error,
      },
    );
  return {
    catalog: live.workloads.length ? mergeKubernetesLabels(catalog, live.workloads) : catalog,
    bindings: live.bindings,
  };
}

/**
 * `serve --sandbox`: starts `day2 sandbox` as a child process and connects to what it wrote
 * (day2.yaml, kubeconfigs, sandbox.env) exactly as to real backends, so the emulators live outside
 * the server. The fleet's catalog is read from the fleet file, with its workloads' labels merged.
 */
async function sandboxBackends(loaded: LoadedConfig, opts: BackendOptions): Promise<BuiltBackends> {
  // Imported here: a real deployment never loads them.
  const { startSandboxProcess } = await import('../sandbox/sandbox-process.js');
  const configured = loaded.config.sandbox?.fleet;
  const fleet = opts.fleet ?? (configured ? resolve(loaded.baseDir, configured) : undefined);
  const child = await startSandboxProcess({ fleet, env: opts.env });
  try {
    const env = { ...opts.env, ...child.env };
    const written = loadConfig({ path: child.ready.config, env });
    // The fleet's catalog files, with its workloads' labels merged as a cluster's would be: the
    // sandbox wrote both, so this process never parses the fleet (it holds the emulators' data).
    const fleetCatalog = await loadCatalog(child.ready.catalog.paths, { baseDir: child.ready.catalog.dir });
    if (fleetCatalog.errors.length > 0) throw new CatalogLoadError(fleetCatalog.errors);
    const catalog = mergeKubernetesLabels(
      fleetCatalog.catalog,
      workloadLabelsSchema.parse(JSON.parse(await readFile(child.ready.workloads, 'utf8'))),
    );
    const config = {
      ...loaded.config,
      environments: written.config.environments,
      backends: loaded.config.backends,
    };
    const backends = realBackends({
      config,
      baseDir: written.baseDir,
      env,
      log: opts.log,
      redactor: opts.redactor,
    });
    let closing = false;
    const envs = Object.keys(written.config.environments);
    return {
      backends,
      catalog,
      environments: written.config.environments,
      rotation: written.config.rotation,
      connection: { config, baseDir: written.baseDir, env },
      lost: child.exited.then((how) => (closing ? new Promise<string>(() => undefined) : how)),
      close: async () => {
        closing = true;
        // The child is told at once: its own stop (Alertmanager, the registry) takes a while.
        await Promise.all([backends.close(), child.close()]);
      },
      describe: `sandbox process ${child.pid} (${envs.length} environments, ${catalog.services().length} services; files in ${child.ready.dir})`,
    };
  } catch (err) {
    await child.close();
    throw err;
  }
}
