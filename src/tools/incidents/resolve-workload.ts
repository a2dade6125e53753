import type { Deps } from '../../deps.js';
import { ToolError } from '../define-tool.js';
import { resolveEnv } from '../context/resolve-service.js';
import type { KubernetesProvider } from '../../providers/kubernetes/types.js';

export interface ResolvedWorkload {
  env: string;
  /** Catalog service id, or the deployment name when only a raw `namespace/name` was given. */
  service: string;
  namespace: string;
  name: string;
  k8s: KubernetesProvider;
}

/**
 * The Kubernetes Deployment a write tool acts on: the catalog service's workload in `env`, or a
 * raw `namespace/name`. Throws a ToolError the model can act on when neither resolves.
 */
export function resolveWorkload(deps: Deps, service: string, envName: string): ResolvedWorkload {
  const env = resolveEnv(deps, envName);
  if (!deps.backends.has(env, 'kubernetes'))
    throw new ToolError(
      `env: environment "${env}" has no Kubernetes configured in day2.yaml`,
      'not_configured',
      'env',
    );
  const k8s = deps.backends.kubernetes(env);
  const svc = deps.catalog.service(service);
  if (svc) {
    const w = deps.catalog.workloadFor(svc.id, env);
    if (!w)
      throw new ToolError(
        `service: ${svc.id} has no Kubernetes workload in ${env} in the catalog`,
        'not_found',
        'service',
      );
    return { env, service: svc.id, namespace: w.namespace, name: w.name, k8s };
  }
  const raw = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(service);
  if (raw) {
    const owner = deps.catalog.serviceForWorkload(env, raw[1]!, raw[2]!);
    return { env, service: owner?.id ?? raw[2]!, namespace: raw[1]!, name: raw[2]!, k8s };
  }
  const close = deps.catalog.completeServiceNames(service.slice(0, 3), 5);
  throw new ToolError(
    `service: no service "${service}" in the catalog${close.length ? `; did you mean ${close.join(', ')}?` : ''} (a raw namespace/deployment works too)`,
    'not_found',
    'service',
  );
}
