import type { PostgresProvider } from './postgres/postgres-provider.js';
import type { KubernetesProvider } from './kubernetes/types.js';
import type { DatadogProvider } from './datadog/types.js';
import type { AlertmanagerProvider } from './alertmanager/types.js';
import type { SecretsManagerProvider } from './secrets-manager/types.js';
import type { EnvRegistry } from './registry/index.js';

export type BackendName =
  'kubernetes' | 'datadog' | 'alertmanager' | 'secrets-manager' | 'postgres' | 'registry';

/**
 * The backends of every environment, behind narrow domain interfaces. Each accessor throws
 * BackendNotConfiguredError when the environment names no such backend; `has` asks first.
 * Providers are built on first use, so a process that never touches Datadog never loads its SDK.
 */
export interface Backends {
  has(env: string, backend: BackendName): boolean;
  kubernetes(env: string): KubernetesProvider;
  datadog(env: string): DatadogProvider;
  alertmanager(env: string): AlertmanagerProvider;
  secrets(env: string): SecretsManagerProvider;
  /** The container registry `env`'s images live in (`environments.<env>.registry`). */
  registry(env: string): EnvRegistry;
  postgres: PostgresProvider;
}

export class BackendNotConfiguredError extends Error {
  constructor(
    readonly backend: string,
    readonly env: string,
  ) {
    super(`environment "${env}" has no ${backend} configured in day2.yaml`);
    this.name = 'BackendNotConfiguredError';
  }
}
