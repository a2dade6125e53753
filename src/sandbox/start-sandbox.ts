import { startAlertReconciler, type AlertReconciler } from './alert-reconciler.js';
import { pushImage, RegistryMissingError, startRegistry, type RegistryProcess } from './registry-process.js';
import type { Catalog } from '../catalog/catalog.js';
import { systemClock, type Clock } from '../core/clock.js';
import { configSchema, environmentSchema, type EnvironmentConfig } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { Redactor } from '../core/redact.js';
import type { BackendName, Backends } from '../providers/backends.js';
import { createAlertmanagerProvider } from '../providers/alertmanager/http-provider.js';
import { scopedAlertmanager } from '../providers/alertmanager/scoped-provider.js';
import { createDatadogProvider } from '../providers/datadog/datadog-provider.js';
import type { KubernetesProvider } from '../providers/kubernetes/types.js';
import { lazy } from '../providers/lazy.js';
import { PostgresProvider } from '../providers/postgres/postgres-provider.js';
import { backendsFrom, configHas } from '../providers/real-backends.js';
import { createSecretsManagerProvider } from '../providers/secrets-manager/aws-provider.js';
import {
  AlertmanagerMissingError,
  startAlertmanager,
  type AlertmanagerProcess,
} from './alertmanager-process.js';
import { startDatadogEmulator, type DatadogEmulator } from './datadog/index.js';
import { startKubernetesEmulator, type KubernetesEmulator } from './kubernetes/emulator.js';
import type { RolloutTiming } from './kubernetes/rollout-controller.js';
import { issueServingTls } from './kubernetes/tls.js';
import { builtinFleetPath, loadFleet, type LoadedFleet } from './load-fleet.js';
import type { Fleet } from './fleet-schema.js';
import { keepAlertsFiring } from './seed/alertmanager.js';
import { datadogSeeds } from './seed/datadog.js';
import { crashingImages, crashMessages, errorMessages, kubernetesObjects } from './seed/kubernetes.js';
import { databaseUrl, redactUrl, SANDBOX_EXPLAIN_ROLE } from './seed/postgres.js';
import { startSandboxPostgres, type SandboxPostgres } from './sandbox-postgres.js';
import { SeedingClock, seedSecrets } from './seed/secrets-manager.js';
import { startSecretsManagerEmulator, type SecretsManagerEmulator } from './secrets-manager/index.js';

export interface StartSandboxOptions {
  /** Fleet file; default the built-in demo fleet. */
  fleet?: string;
  /** An already loaded fleet (synthetic fleets in benchmarks); wins over `fleet`. */
  loaded?: LoadedFleet;
  /** Clock of the emulators and of the fleet's relative times; default the system clock. */
  clock?: Clock;
  log: Logger;
  /** The runtime's redactor: the sandbox's Secrets Manager providers register secret values with it. */
  redactor: Redactor;
  /** The environment pg_dump and pg_restore run with (PATH, HOME, locale): the CLI's. */
  env: Record<string, string | undefined>;
  /**
   * Where the fleet's databases and roles are created. Default: a PostgreSQL cluster of the
   * sandbox's own (initdb into a temporary folder, scram-sha-256 on a free loopback port, stopped
   * and removed on close) when the server binaries are installed, else the shared server on
   * 127.0.0.1:5432. With `url` (or on that fallback) every database and role name carries a
   * per-sandbox prefix, only roles the sandbox created are ever changed, and close drops them.
   * `false` skips PostgreSQL entirely.
   */
  postgres?: { url?: string } | false;
  /** Start the real Distribution registry with the fleet's images (default true, when installed). */
  registry?: boolean;
  /** Start the real Alertmanager (default true); without it `has(env, 'alertmanager')` is false. */
  alertmanager?: boolean;
  /** Path of the Alertmanager binary (default /usr/bin/prometheus-alertmanager). */
  alertmanagerBinary?: string;
  /** Timeouts and retries of the providers (config `backends`); defaults as in the config schema. */
  backends?: { timeout: number; retries: number };
  /** Rollout timing of the Kubernetes emulators. */
  timing?: Partial<RolloutTiming>;
  /** How often the fleet's alerts are re-posted to Alertmanager (default 60 s). */
  repostAlertsEveryMs?: number;
}

export interface SandboxEmulators {
  /** One cluster per environment. */
  kubernetes: Record<string, KubernetesEmulator>;
  /** One organisation; monitors carry env:<env>. */
  datadog: DatadogEmulator;
  /** One account; secret names carry the environment. */
  secretsManager: SecretsManagerEmulator;
  /** The real binary, one for every environment (alerts labelled env=<env>); absent when not installed. */
  alertmanager?: AlertmanagerProcess;
}

export interface Sandbox {
  /**
   * The environments to merge into the configuration (config `environments`): the very objects
   * the sandbox's backends read their configuration from (a test may point an environment at
   * another container registry here).
   */
  environments: Record<string, EnvironmentConfig>;
  backends: Backends;
  /** The fleet's catalog, linked to every environment's deployments. */
  catalog: Catalog;
  emulators: SandboxEmulators;
  fleet: LoadedFleet;
  /** The fleet's credential rotation policy, when it has one: config `rotation.max_age_days` and `warn_days`. */
  rotation?: { max_age_days: number; warn_days: number };
  /** Where the fleet's databases and roles are (host, port, name prefix), when PostgreSQL was had. */
  postgres?: Omit<SandboxPostgres, 'close' | 'fleet'>;
  /**
   * What a client outside this process needs to log in: the Datadog keys and the AWS access key the
   * emulators accept (secrets of the sandbox: written only to files of mode 0600, never logged).
   */
  credentials: {
    datadog: { apiKey: string; appKey: string };
    aws: { accessKeyId: string; secretAccessKey: string };
  };
  /** A few words for the start-up line. */
  describe: string;
  close(): Promise<void>;
}

const SANDBOX_AWS_CREDENTIALS = {
  accessKeyId: 'AKIASANDBOX000000000',
  secretAccessKey: 'sandbox-secret-access-key',
};

/**
 * The real Distribution registry (`docker-registry`), holding a small image for every tag the fleet
 * lists, so that patch_report and digest pinning work in the sandbox. Optional like Alertmanager.
 */
async function tryRegistry(fleet: Fleet, log: Logger): Promise<RegistryProcess | undefined> {
  if (!fleet.registry) return undefined;
  let registry: RegistryProcess;
  try {
    registry = await startRegistry();
  } catch (err) {
    if (err instanceof RegistryMissingError) {
      log.warn(
        'sandbox: the Distribution registry is not installed, so patch_report has no registry; install it with `apt-get install -y docker-registry`',
      );
    } else log.warn('sandbox: the registry did not start; patch_report has no registry', { error: err });
    return undefined;
  }
  try {
    const pushes = Object.entries(fleet.registry.repositories).flatMap(([repo, tags]) =>
      tags.map((tag) => [repo, tag] as const),
    );
    for (let i = 0; i < pushes.length; i += 8) {
      await Promise.all(pushes.slice(i, i + 8).map(([repo, tag]) => pushImage(registry.url, repo, tag)));
    }
    return registry;
  } catch (err) {
    await registry.close().catch(() => undefined);
    log.warn('sandbox: could not push the fleet images to the registry; patch_report has no registry', {
      error: err,
    });
    return undefined;
  }
}

async function tryAlertmanager(log: Logger, binary?: string): Promise<AlertmanagerProcess | undefined> {
  try {
    return await startAlertmanager(binary ? { binary } : {});
  } catch (err) {
    if (err instanceof AlertmanagerMissingError) {
      log.warn(
        'sandbox: Prometheus Alertmanager is not installed, so Alertmanager alerts are left out; install it with `apt-get install -y prometheus-alertmanager`',
      );
      return undefined;
    }
    log.warn('sandbox: Alertmanager did not start; Alertmanager alerts are left out', { error: err });
    return undefined;
  }
}

/**
 * `day2 serve --sandbox`: turns a fleet (data) into running backends. One Kubernetes emulator per
 * environment, one Datadog emulator, one Secrets Manager emulator, the real Alertmanager (when
 * installed) with the fleet's alerts kept firing, and the fleet's databases and roles on a real
 * PostgreSQL (when reachable). Everything listens on 127.0.0.1. Returns the environments to put in
 * the configuration, the backends over those emulators and the fleet's catalog.
 */
export async function startSandbox(opts: StartSandboxOptions): Promise<Sandbox> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const loaded = opts.loaded ?? (await loadFleet(opts.fleet ?? builtinFleetPath(), { clock }));
  const fleet = loaded.fleet;
  const now = loaded.now;
  const envNames = Object.keys(fleet.environments);
  const ddKeys = {
    apiKey: `sbx-dd-api-${Math.random().toString(36).slice(2)}`,
    appKey: `sbx-dd-app-${Math.random().toString(36).slice(2)}`,
  };
  const region = Object.values(fleet.environments)[0]?.aws_region ?? 'eu-west-1';
  const smClock = new SeedingClock(clock);
  const badImages = crashingImages(fleet);
  const crashes = crashMessages(fleet);
  const started: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(p: Promise<T>): Promise<T> =>
    p.then((x) => {
      started.push(x);
      return x;
    });

  let stopAlerts: (() => void) | undefined;
  try {
    // Everything starts at once; when one part fails, the parts that did start are closed again.
    // The Kubernetes API servers serve HTTPS under one CA, as clusters do (kubectl needs it).
    const tls = issueServingTls(`day2-sandbox-${fleet.name}`);
    const settled = await Promise.allSettled([
      tls.then((servingTls) =>
        Promise.all(
          envNames.map((env) =>
            track(
              startKubernetesEmulator({
                objects: kubernetesObjects(env, fleet.environments[env]!, now),
                badImages,
                crashMessages: crashes,
                errorMessages: errorMessages(fleet),
                clock,
                timing: opts.timing,
                tls: servingTls,
              }),
            ),
          ),
        ),
      ),
      track(startDatadogEmulator({ ...ddKeys, ...datadogSeeds(fleet), clock })),
      track(startSecretsManagerEmulator({ clock: smClock, region })),
      opts.alertmanager === false
        ? Promise.resolve(undefined)
        : tryAlertmanager(log, opts.alertmanagerBinary).then((am) =>
            am ? track(Promise.resolve(am)) : undefined,
          ),
      opts.postgres === false
        ? Promise.resolve(undefined)
        : startSandboxPostgres(fleet, { url: opts.postgres?.url, log }).then((p) =>
            p ? track(Promise.resolve(p)) : undefined,
          ),
      opts.registry === false
        ? Promise.resolve(undefined)
        : tryRegistry(fleet, log).then((r) => (r ? track(Promise.resolve(r)) : undefined)),
    ] as const);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const value = <T>(r: PromiseSettledResult<T>): T => (r as PromiseFulfilledResult<T>).value;
    const kubeList = value(settled[0]);
    const datadog = value(settled[1]);
    const secretsManager = value(settled[2]);
    const alertmanager = value(settled[3]);
    const pgServer = value(settled[4]);
    // The fleet as placed on that server: its database secrets name the server's host and port.
    const dbFleet = pgServer?.fleet ?? fleet;
    const registry = value(settled[5]);
    const kubernetes = Object.fromEntries(envNames.map((env, i) => [env, kubeList[i]!]));

    const timeoutMs = opts.backends?.timeout ?? 10_000;
    const seedClient = createSecretsManagerProvider({
      redactor: opts.redactor,
      region,
      endpoint: secretsManager.url,
      credentials: SANDBOX_AWS_CREDENTIALS,
      timeoutMs,
    });
    await seedSecrets(dbFleet, secretsManager, smClock, () => seedClient);

    const amProvider = alertmanager
      ? createAlertmanagerProvider({ url: alertmanager.url, timeoutMs })
      : undefined;
    if (amProvider)
      stopAlerts = await keepAlertsFiring(amProvider, fleet, {
        now: () => clock.now(),
        everyMs: opts.repostAlertsEveryMs,
        log,
      });

    for (const n of pgServer?.notes ?? []) log.info(`sandbox: ${n}`);

    const environments: Record<string, EnvironmentConfig> = {};
    for (const env of envNames) {
      const e = fleet.environments[env]!;
      const prefix = e.secrets.aws.every((s) => s.name.startsWith(`${env}/`)) ? `${env}/` : '';
      environments[env] = environmentSchema.parse({
        tier: e.tier,
        kubernetes: { context: 'sandbox', namespaces: e.namespaces },
        datadog: { base_url: datadog.url, scope_tag: `env:${env}` },
        ...(alertmanager ? { alertmanager: { url: alertmanager.url, labels: { env } } } : {}),
        aws: { region: e.aws_region, endpoint: secretsManager.url, secret_prefix: prefix },
        databases: Object.fromEntries(
          Object.entries(dbFleet.environments[env]!.databases).map(([key, db]) => [
            key,
            {
              url: databaseUrl(
                pgServer?.adminUrl ?? `postgres://postgres@${db.host}:${db.port}/postgres`,
                db.database,
              ),
              // The sandbox logs in as a superuser: SQL from the model runs as the seeded role.
              explain_role: pgServer?.explainRole ?? SANDBOX_EXPLAIN_ROLE,
            },
          ]),
        ),
        ...(loaded.desiredState[env] ? { desired_state: loaded.desiredState[env] } : {}),
        ...(registry && fleet.registry ? { registry: { url: registry.url, host: fleet.registry.host } } : {}),
      });
    }

    const config = configSchema.parse({
      environments,
      backends: { timeout: timeoutMs, retries: opts.backends?.retries ?? 3 },
    });
    const postgres = new PostgresProvider(config, { log, env: opts.env });
    const has = (env: string, backend: BackendName): boolean =>
      envNames.includes(env) &&
      (backend !== 'alertmanager' || alertmanager !== undefined) &&
      configHas(config, env, backend);
    const backends = backendsFrom(
      config,
      {
        has,
        kubernetes: (env) =>
          lazy<KubernetesProvider>(
            async () => {
              const { createKubernetesProvider } =
                await import('../providers/kubernetes/create-kubernetes-provider.js');
              return createKubernetesProvider({
                kubeConfig: await kubernetes[env]!.kubeConfig(),
                namespaces: fleet.environments[env]!.namespaces,
                timeoutMs,
              });
            },
            { namespaces: fleet.environments[env]!.namespaces },
          ),
        datadog: (env) =>
          createDatadogProvider(
            { baseUrl: datadog.url, ...ddKeys, scopeTag: `env:${env}`, timeoutMs },
            { logger: log.child({ env, backend: 'datadog' }), now: () => clock.now() },
          ),
        alertmanager: (env) => scopedAlertmanager(amProvider!, { env }),
        secrets: (env) =>
          createSecretsManagerProvider({
            redactor: opts.redactor,
            region: fleet.environments[env]!.aws_region,
            endpoint: secretsManager.url,
            credentials: SANDBOX_AWS_CREDENTIALS,
            prefix: environments[env]!.aws!.secret_prefix || undefined,
            timeoutMs,
          }),
      },
      postgres,
    );

    const services = loaded.catalog.services().length;
    const ports = [
      ...envNames.map((env) => `kubernetes/${env} ${kubernetes[env]!.url}`),
      `datadog ${datadog.url}`,
      `secrets-manager ${secretsManager.url}`,
      alertmanager ? `alertmanager ${alertmanager.url}` : 'alertmanager not installed',
      pgServer
        ? pgServer.ownCluster
          ? `postgres 127.0.0.1:${pgServer.port} (its own cluster)`
          : `postgres ${redactUrl(pgServer.adminUrl)} (prefix ${pgServer.prefix})`
        : 'postgres not seeded',
      ...(registry ? [`registry ${registry.url}`] : []),
    ];
    const describe = `sandbox fleet ${fleet.name} (${envNames.length} environments, ${services} services)`;
    log.info(
      `sandbox: fleet ${fleet.name} (${envNames.length} environments, ${services} services) — emulators on ${ports.join(', ')}`,
    );

    let closing: Promise<void> | undefined;
    const sandbox: Sandbox = {
      environments: config.environments,
      backends,
      catalog: loaded.catalog,
      emulators: { kubernetes, datadog, secretsManager, alertmanager },
      fleet: loaded,
      rotation: fleet.rotation_policy,
      ...(pgServer ? { postgres: withoutHandles(pgServer) } : {}),
      credentials: { datadog: ddKeys, aws: SANDBOX_AWS_CREDENTIALS },
      describe,
      close: () =>
        (closing ??= (async () => {
          reconciler.stop();
          stopAlerts?.();
          await postgres.close();
          await Promise.all(started.map((s) => s.close().catch(() => undefined)));
        })()),
    };
    // Alerts follow the fleet's cause: a rollback away from a bad image clears the alerts it caused.
    const reconciler: AlertReconciler = startAlertReconciler(sandbox, { log });
    return sandbox;
  } catch (err) {
    stopAlerts?.();
    await Promise.all(started.map((s) => s.close().catch(() => undefined)));
    throw err;
  }
}

function withoutHandles(p: SandboxPostgres): Omit<SandboxPostgres, 'close' | 'fleet'> {
  const { ok, databases, roles, notes, adminUrl, host, port, prefix, explainRole, ownCluster } = p;
  return { ok, databases, roles, notes, adminUrl, host, port, prefix, explainRole, ownCluster };
}
