import { environmentConfig } from '../../config/lookup.js';
import type { Deps } from '../../contract/deps.js';
import type { BackendName } from '../../providers/backends.js';
import { ToolError } from '../../contract/define-tool.js';

/** The environment a tool argument names, or a ToolError listing the configured ones. */
export function resolveEnv(deps: Deps, env: string): string {
  if (environmentConfig(deps.config, env)) return env;
  throw new ToolError(
    `env: no environment "${env}"; configured: ${Object.keys(deps.config.environments).join(', ') || 'none'}`,
    'not_found',
    'env',
  );
}

const BACKEND_CONFIG: Record<Exclude<BackendName, 'postgres'>, { label: string; key: string }> = {
  kubernetes: { label: 'Kubernetes', key: 'kubernetes' },
  datadog: { label: 'Datadog', key: 'datadog' },
  alertmanager: { label: 'Alertmanager', key: 'alertmanager' },
  'secrets-manager': { label: 'AWS Secrets Manager', key: 'aws' },
  registry: { label: 'container registry', key: 'registry' },
};

/**
 * The environment a tool argument names, when it has `backend` configured; otherwise a ToolError
 * naming the environment and the day2.yaml key that would configure it.
 */
export function resolveEnvWith(
  deps: Deps,
  envName: string,
  backend: Exclude<BackendName, 'postgres'>,
): string {
  const env = resolveEnv(deps, envName);
  if (!deps.backends.has(env, backend)) {
    const { label, key } = BACKEND_CONFIG[backend];
    throw new ToolError(
      `env: environment "${env}" has no ${label} configured (environments.${env}.${key})`,
      'not_configured',
      'env',
    );
  }
  return env;
}

/**
 * A list's `service` filter: the catalog service it names; else the name itself when the listed
 * rows use it (a workload the catalog does not know); else the resolver's error, which suggests
 * the closest services. A filter never silently matches nothing because of a name.
 */
export function resolveServiceFilter(
  deps: Deps,
  name: string,
  opts: { env?: string },
  listed: (name: string) => boolean,
): string {
  const svc = deps.catalog.resolver.findService(name, opts.env);
  if (svc) return svc.id;
  if (listed(name)) return name;
  throw deps.catalog.resolver.refuse(name, 'service', opts);
}
