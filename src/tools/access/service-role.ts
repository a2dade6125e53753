import type { KubernetesProvider, PolicyRule } from '../../providers/kubernetes/types.js';

/** The named objects of one service in its namespace: what a grant for the service can be narrowed to. */
export interface ServiceObjects {
  deployment: string;
  services: string[];
  configMaps: string[];
  secrets: string[];
}

/**
 * Reads the service's Deployment, the Services that select its pods, and the ConfigMaps and
 * Secrets its pod template reads (env, envFrom, volumes).
 */
export async function serviceObjects(
  k8s: KubernetesProvider,
  namespace: string,
  deployment: string,
): Promise<ServiceObjects> {
  const [d, services] = await Promise.all([
    k8s.getDeployment(namespace, deployment),
    k8s.listServices(namespace),
  ]);
  const pod = d.podLabels ?? {};
  const selecting = services
    .filter((s) => {
      const sel = Object.entries(s.selector);
      return sel.length > 0 && sel.every(([k, v]) => pod[k] === v);
    })
    .map((s) => s.name)
    .sort();
  return {
    deployment: d.name,
    services: selecting,
    configMaps: d.references?.configMaps ?? [],
    secrets: d.references?.secrets ?? [],
  };
}

// The verbs of the built-in ClusterRoles that RBAC can limit to named objects. `create`, `list`
// and `deletecollection` act on a collection, which has no name: a Role cannot narrow them.
const VERBS = {
  view: ['get', 'watch'],
  edit: ['get', 'watch', 'update', 'patch'],
  admin: ['get', 'watch', 'update', 'patch', 'delete'],
} as const;

/**
 * The rules of a Role that gives `role` on exactly the service's objects. As the built-in `view`
 * does, view leaves Secrets out.
 */
export function serviceRules(role: keyof typeof VERBS, o: ServiceObjects): PolicyRule[] {
  const verbs = [...VERBS[role]];
  const rules: PolicyRule[] = [
    {
      apiGroups: ['apps'],
      resources: role === 'view' ? ['deployments'] : ['deployments', 'deployments/scale'],
      resourceNames: [o.deployment],
      verbs,
    },
  ];
  const core: [string, string[]][] = [
    ['services', o.services],
    ['configmaps', o.configMaps],
    ['secrets', role === 'view' ? [] : o.secrets],
  ];
  for (const [resource, names] of core)
    if (names.length > 0) rules.push({ apiGroups: [''], resources: [resource], resourceNames: names, verbs });
  return rules;
}

/** What a service grant covers, in the words the plan's first line uses. */
export function describeObjects(role: keyof typeof VERBS, o: ServiceObjects): string {
  const parts = [
    `Deployment ${o.deployment}`,
    o.services.length ? `Service ${o.services.join(', ')}` : '',
    o.configMaps.length ? `ConfigMap ${o.configMaps.join(', ')}` : '',
    role !== 'view' && o.secrets.length ? `Secret ${o.secrets.join(', ')}` : '',
  ].filter(Boolean);
  return `${parts.join('; ')} (${VERBS[role].join(', ')})`;
}

/** Why a service grant leaves pods out, and how to get them. */
export function notCovered(namespace: string): string {
  return `not its pods or their logs: Kubernetes RBAC names objects and cannot select by label, and pod names change with every rollout; scope "namespace:${namespace}" grants every object in the namespace instead`;
}
