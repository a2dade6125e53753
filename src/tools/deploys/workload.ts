import { z } from 'zod';
import type { Deps } from '../../contract/deps.js';
import type { KubernetesProvider } from '../../providers/kubernetes/types.js';
import { ConflictError } from '../../providers/errors.js';
import { ToolError, type Target } from '../../contract/define-tool.js';
import { envField } from '../../contract/fields.js';
import { resolveEnvWith } from '../context/resolve-service.js';

/** The fields of a write that watches its rollout and undoes it when the new pods fail. */
export const rolloutWatchFields = {
  auto_rollback: z
    .boolean()
    .optional()
    .meta({ default: true, description: 'undo the rollout if new pods fail' }),
  timeout_seconds: z.number().int().min(5).max(3600).optional().meta({ default: 600 }),
};

/** What every template-changing write reports about the rollout it watched (see changeTemplate). */
export const rolloutResultFields = {
  outcome: z
    .enum(['rolled_out', 'rolled_back', 'rollback_failed', 'not_confirmed'])
    .describe('rolled_back: the new pods failed and day2 restored the previous revision'),
  reason: z.string(),
  pod_problems: z.array(z.string()).describe('what the new pods reported: backend text, data'),
};

/** The fields that name one Deployment: a catalog service, or a raw namespace and deployment. */
export const workloadFields = {
  env: envField,
  service: z.string().min(1).optional().describe('or namespace and deployment'),
  namespace: z.string().min(1).max(63).optional(),
  deployment: z.string().min(1).max(253).optional(),
};

/** One Deployment in one environment, and the service it belongs to when the catalog knows. */
export interface Workload {
  env: string;
  namespace: string;
  name: string;
  service?: string;
  k8s: KubernetesProvider;
}

/**
 * Resolves `{service, env}` through the catalog (or raw `namespace` + `deployment`) to a Deployment
 * and the environment's Kubernetes provider. Errors name the field to fix.
 */
export function resolveWorkload(
  deps: Deps,
  args: { env: string; service?: string; namespace?: string; deployment?: string },
): Workload {
  const env = resolveEnvWith(deps, args.env, 'kubernetes');
  const k8s = deps.backends.kubernetes(env);
  if (args.service) {
    const svc = deps.catalog.resolver.service(args.service, { env });
    const w = deps.catalog.workloadFor(svc.id, env);
    if (args.namespace || args.deployment) {
      if (
        !w ||
        (args.namespace && args.namespace !== w.namespace) ||
        (args.deployment && args.deployment !== w.name)
      )
        throw new ToolError(
          `deployment: service "${svc.id}" runs as ${w ? `${w.namespace}/${w.name}` : 'no known deployment'} in ${env}; give either service or namespace+deployment`,
          'invalid',
          'deployment',
        );
    }
    if (!w)
      throw new ToolError(
        `service: the catalog links no Kubernetes workload to "${svc.id}" in ${env}; pass namespace and deployment`,
        'not_found',
        'service',
      );
    return { env, namespace: w.namespace, name: w.name, service: svc.id, k8s };
  }
  if (!args.namespace || !args.deployment)
    throw new ToolError(
      'service: give a service from the catalog, or both namespace and deployment',
      'invalid',
      'service',
    );
  const svc = deps.catalog.resolver.workloadService(env, args.namespace, args.deployment);
  return { env, namespace: args.namespace, name: args.deployment, service: svc?.id, k8s };
}

/** The container a call names, or the only one there is; errors name the `container` field. */
export function pickContainer(
  w: Pick<Workload, 'namespace' | 'name'>,
  containers: string[],
  requested?: string,
): string {
  const container = requested ?? (containers.length === 1 ? containers[0] : undefined);
  if (!container)
    throw new ToolError(
      `container: ${w.namespace}/${w.name} has several containers (${containers.join(', ')}); name one`,
      'invalid',
      'container',
    );
  if (!containers.includes(container))
    throw new ToolError(
      `container: ${w.namespace}/${w.name} has no container "${container}" (containers: ${containers.join(', ')})`,
      'not_found',
      'container',
    );
  return container;
}

export function deploymentTarget(w: Pick<Workload, 'namespace' | 'name' | 'service'>): Target {
  return {
    kind: 'Deployment',
    namespace: w.namespace,
    name: w.name,
    ...(w.service ? { service: w.service } : {}),
  };
}

/** Services that depend on this one (catalog), capped: shown to approvers in every plan. */
export function dependentsOf(deps: Deps, service: string | undefined): string[] {
  if (!service) return [];
  return (deps.catalog.service(service)?.dependents ?? []).slice(0, 20);
}

/**
 * Runs a write that carries a resourceVersion precondition. A 409 means the object changed after
 * the plan: the caller must plan again, never retry blindly.
 */
export async function writeOrReplan<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConflictError)
      throw new ToolError(
        `the ${what} changed since it was planned; call again without approval_token for a new plan`,
        'conflict',
        what,
      );
    throw err;
  }
}

/** Clips backend text or JSON values for a plan or result: data, kept short. */
export function clipValue(v: unknown, max = 160): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
