import { environmentConfig } from '../config/lookup.js';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { Redactor } from '../core/redact.js';
import { BackendNotConfiguredError, type BackendName, type Backends } from './backends.js';
import { lazy } from './lazy.js';
import { resilient } from './resilient.js';
import { createAlertmanagerProvider } from './alertmanager/http-provider.js';
import { scopedAlertmanager } from './alertmanager/scoped-provider.js';
import { Registries } from './registry/index.js';
import type { AlertmanagerProvider } from './alertmanager/types.js';
import type { DatadogProvider } from './datadog/types.js';
import type { KubernetesProvider } from './kubernetes/types.js';
import { PostgresProvider } from './postgres/postgres-provider.js';
import { createSecretsManagerProvider } from './secrets-manager/aws-provider.js';
import type { SecretsManagerProvider } from './secrets-manager/types.js';

export interface RealBackendsOptions {
  config: Config;
  /** Folder a relative kubeconfig path resolves against (the config file's). */
  baseDir: string;
  /** Where credentials named in the config (DD_API_KEY, url_env, ...) are read. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The runtime's redactor, which the Secrets Manager providers register secret values with. */
  redactor: Redactor;
}

export interface OwnedBackends extends Backends {
  close(): Promise<void>;
}

/** Whether `env`'s configuration names `backend`. */
export function configHas(config: Config, env: string, backend: BackendName): boolean {
  const e = environmentConfig(config, env);
  if (!e) return false;
  switch (backend) {
    case 'kubernetes':
      return e.kubernetes !== undefined;
    case 'datadog':
      return e.datadog !== undefined;
    case 'alertmanager':
      return e.alertmanager !== undefined;
    case 'secrets-manager':
      return e.aws !== undefined;
    case 'postgres':
      return Object.keys(e.databases).length > 0;
    case 'registry':
      return e.registry !== undefined;
  }
}

/**
 * A Backends over per-environment accessors, each provider built once on first access and wrapped
 * by `resilient` (timeouts and retries of reads), plus the container registries `config` names
 * (one client per registry URL; its requests carry their own timeout). Shared by the real backends
 * and the sandbox.
 */
export function backendsFrom(
  config: Config,
  build: {
    has(env: string, backend: BackendName): boolean;
    kubernetes(env: string): KubernetesProvider;
    datadog(env: string): DatadogProvider;
    alertmanager(env: string): AlertmanagerProvider;
    secrets(env: string): SecretsManagerProvider;
  },
  postgres: PostgresProvider,
): Backends {
  const cache = new Map<string, unknown>();
  const registries = new Registries(config);
  const get = <T extends object>(env: string, backend: BackendName, make: () => T): T => {
    if (!build.has(env, backend)) throw new BackendNotConfiguredError(backend, env);
    const key = `${backend}\u0000${env}`;
    let p = cache.get(key) as T | undefined;
    if (!p) {
      p = resilient(make(), {
        backend,
        retries: config.backends.retries,
        timeoutMs: config.backends.timeout,
      });
      cache.set(key, p);
    }
    return p;
  };
  return {
    has: (env, backend) => build.has(env, backend),
    kubernetes: (env) => get(env, 'kubernetes', () => build.kubernetes(env)),
    datadog: (env) => get(env, 'datadog', () => build.datadog(env)),
    alertmanager: (env) => get(env, 'alertmanager', () => build.alertmanager(env)),
    secrets: (env) => get(env, 'secrets-manager', () => build.secrets(env)),
    registry: (env) => {
      const reg = build.has(env, 'registry') ? registries.of(env) : undefined;
      if (!reg) throw new BackendNotConfiguredError('registry', env);
      return reg;
    },
    postgres,
  };
}

/**
 * Real providers for every configured environment: Kubernetes from a kubeconfig (path and
 * context), Datadog with the keys read from the variables the config names, Alertmanager by URL,
 * Secrets Manager through the AWS default credential chain, PostgreSQL from `databases`. SDK-backed
 * providers are created lazily, so start-up loads no SDK and a missing credential surfaces as a
 * backend error on first use, naming the environment.
 */
export function realBackends(opts: RealBackendsOptions): OwnedBackends {
  const { config, env, log } = opts;
  const timeoutMs = config.backends.timeout;
  const envConfig = (name: string) => environmentConfig(config, name)!;
  const postgres = new PostgresProvider(config, { env, log });
  const backends = backendsFrom(
    config,
    {
      has: (name, backend) => configHas(config, name, backend),
      kubernetes: (name) => {
        const k = envConfig(name).kubernetes!;
        return lazy<KubernetesProvider>(
          async () => {
            const { createKubernetesProvider } = await import('./kubernetes/create-kubernetes-provider.js');
            return createKubernetesProvider({
              kubeconfigPath: k.kubeconfig ? resolve(opts.baseDir, k.kubeconfig) : undefined,
              context: k.context,
              namespaces: k.namespaces,
              timeoutMs,
            });
          },
          { namespaces: k.namespaces },
        );
      },
      datadog: (name) => {
        const d = envConfig(name).datadog!;
        return lazy<DatadogProvider>(async () => {
          const { createDatadogProvider } = await import('./datadog/datadog-provider.js');
          return createDatadogProvider(
            {
              site: d.site,
              baseUrl: d.base_url,
              apiKey: env[d.api_key_env] ?? '',
              appKey: env[d.app_key_env] ?? '',
              scopeTag: d.scope_tag,
              timeoutMs,
            },
            { logger: log.child({ env: name, backend: 'datadog' }) },
          );
        });
      },
      alertmanager: (name) => {
        const a = envConfig(name).alertmanager!;
        return scopedAlertmanager(createAlertmanagerProvider({ url: a.url, timeoutMs }), a.labels ?? {});
      },
      secrets: (name) => {
        const a = envConfig(name).aws!;
        return createSecretsManagerProvider({
          redactor: opts.redactor,
          region: a.region,
          prefix: a.secret_prefix || undefined,
          endpoint: a.endpoint,
          // Keys given in day2's own environment (a sandbox's sandbox.env) win over the default chain.
          ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
            ? {
                credentials: {
                  accessKeyId: env.AWS_ACCESS_KEY_ID,
                  secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
                  ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
                },
              }
            : {}),
          timeoutMs,
        });
      },
    },
    postgres,
  );
  return { ...backends, close: () => postgres.close() };
}
