/**
 * What each KubernetesProvider method asks of the API server, in RBAC terms. The ServiceAccount's
 * rules in deploy/kubernetes are derived from this table and the toolsets' methods
 * (src/tools/kubernetes-calls.ts; test/deploy/kubernetes-rbac.test.ts), so a new provider method
 * fails that test until it is declared here, and the manifest until its rules are granted.
 */

import type { KubernetesProvider } from './types.js';

export type RbacVerb = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'bind' | 'escalate';

/** One kind of request: an API group, a resource (with its subresource) and the verbs used on it. */
export interface ApiCall {
  group: string;
  /** Plural resource name, with `/subresource` when the call addresses one (pods/log). */
  resource: string;
  verbs: readonly RbacVerb[];
  /** Names RBAC may limit the rule to (bind on the built-in ClusterRoles). */
  resourceNames?: readonly string[];
  /** Cluster-scoped resources need a ClusterRoleBinding; the rest a RoleBinding per namespace. */
  scope: 'namespace' | 'cluster';
}

/**
 * A generic method (server-side apply, read and list of any kind): its verbs apply to whichever
 * kind the caller names, which day2 limits to GENERIC_KINDS.
 */
export interface GenericApiCall {
  generic: true;
  verbs: readonly RbacVerb[];
}

/** The provider's methods: every member of KubernetesProvider that is a function. */
export type KubernetesProviderMethod = {
  [K in keyof KubernetesProvider]: KubernetesProvider[K] extends (...args: never[]) => unknown ? K : never;
}[keyof KubernetesProvider];

const ns = (group: string, resource: string, ...verbs: RbacVerb[]): ApiCall => ({
  group,
  resource,
  verbs,
  scope: 'namespace',
});

/**
 * The built-in ClusterRoles grant_access binds (KUBERNETES_ROLES in src/tools/access/grant.ts; a
 * test holds the two equal). Binding a role the ServiceAccount does not hold itself needs `bind`.
 */
export const BINDABLE_CLUSTER_ROLES = ['view', 'edit', 'admin'] as const;

/**
 * The kinds day2 reads, lists and applies through the generic methods: the Deployments that
 * update_image, cost and secret rotation read, and what detect_drift and remediate_drift compare
 * and apply. A desired state with other kinds reports them as unreadable until an overlay grants
 * them.
 */
export const GENERIC_KINDS = [
  { apiVersion: 'apps/v1', kind: 'Deployment', group: 'apps', resource: 'deployments' },
  { apiVersion: 'v1', kind: 'Service', group: '', resource: 'services' },
  { apiVersion: 'v1', kind: 'ConfigMap', group: '', resource: 'configmaps' },
  {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    group: 'autoscaling',
    resource: 'horizontalpodautoscalers',
  },
] as const;

/** Every provider method's calls. A `Record` over the methods: the compiler insists on each one. */
export const KUBERNETES_API_CALLS: Record<KubernetesProviderMethod, readonly ApiCall[] | GenericApiCall> = {
  // With no namespace configured this lists across all namespaces; the config always names some.
  listDeployments: [ns('apps', 'deployments', 'list')],
  getDeployment: [ns('apps', 'deployments', 'get')],
  listPods: [ns('', 'pods', 'list')],
  listEvents: [ns('', 'events', 'list')],
  getPodLogs: [ns('', 'pods/log', 'get')],
  listReplicaSets: [ns('apps', 'replicasets', 'list')],
  scaleDeployment: [ns('apps', 'deployments', 'patch')],
  patchDeployment: [ns('apps', 'deployments', 'patch')],
  restartDeployment: [ns('apps', 'deployments', 'patch')],
  rollbackDeployment: [ns('apps', 'deployments', 'get', 'patch'), ns('apps', 'replicasets', 'list')],
  setImage: [ns('apps', 'deployments', 'get', 'patch')],
  listHpas: [ns('autoscaling', 'horizontalpodautoscalers', 'list')],
  getHpa: [ns('autoscaling', 'horizontalpodautoscalers', 'get')],
  upsertHpa: [ns('autoscaling', 'horizontalpodautoscalers', 'get', 'create', 'update')],
  listSecrets: [ns('', 'secrets', 'list')],
  listConfigMaps: [ns('', 'configmaps', 'list')],
  listRoleBindings: [ns('rbac.authorization.k8s.io', 'rolebindings', 'list')],
  createRoleBinding: [
    ns('rbac.authorization.k8s.io', 'rolebindings', 'create'),
    // The Roles createRole made for one service, and the built-in ClusterRoles.
    ns('rbac.authorization.k8s.io', 'roles', 'bind'),
    { ...ns('rbac.authorization.k8s.io', 'clusterroles', 'bind'), resourceNames: BINDABLE_CLUSTER_ROLES },
  ],
  deleteRoleBinding: [ns('rbac.authorization.k8s.io', 'rolebindings', 'delete')],
  listClusterRoleBindings: [
    {
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterrolebindings',
      verbs: ['list'],
      scope: 'cluster',
    },
  ],
  // A service Role grants verbs (update, delete, watch) the ServiceAccount does not hold: escalate.
  createRole: [ns('rbac.authorization.k8s.io', 'roles', 'create', 'escalate')],
  deleteRole: [ns('rbac.authorization.k8s.io', 'roles', 'delete')],
  podMetrics: [ns('metrics.k8s.io', 'pods', 'list')],
  listServices: [ns('', 'services', 'list')],
  listEndpoints: [ns('', 'endpoints', 'list')],
  listPvcs: [ns('', 'persistentvolumeclaims', 'list')],
  listResourceQuotas: [ns('', 'resourcequotas', 'list')],
  // Server-side apply is a patch, and a create when the object does not exist yet.
  serverSideApply: { generic: true, verbs: ['patch', 'create'] },
  getObject: { generic: true, verbs: ['get'] },
  listObjects: { generic: true, verbs: ['list'] },
  waitForRollout: [ns('apps', 'deployments', 'get')],
};

/** A flat RBAC rule: one group, one resource, one verb (and the names it is limited to). */
export interface RbacGrant {
  group: string;
  resource: string;
  verb: RbacVerb;
  resourceNames?: readonly string[];
  scope: 'namespace' | 'cluster';
}

/**
 * The grants `methods` need (default: every method), generic calls over GENERIC_KINDS, from the
 * declarations `calls`.
 */
export function requiredGrants(
  methods?: readonly string[],
  calls: Readonly<Record<string, readonly ApiCall[] | GenericApiCall>> = KUBERNETES_API_CALLS,
): RbacGrant[] {
  const out = new Map<string, RbacGrant>();
  const add = (g: RbacGrant) => out.set(grantKey(g), g);
  for (const [method, decl] of Object.entries(calls)) {
    if (methods && !methods.includes(method)) continue;
    if ('generic' in decl) {
      for (const k of GENERIC_KINDS)
        for (const verb of decl.verbs)
          add({ group: k.group, resource: k.resource, verb, scope: 'namespace' });
      continue;
    }
    for (const c of decl)
      for (const verb of c.verbs)
        add({
          group: c.group,
          resource: c.resource,
          verb,
          scope: c.scope,
          ...(c.resourceNames ? { resourceNames: [...c.resourceNames].sort() } : {}),
        });
  }
  return [...out.values()].sort((a, b) => grantKey(a).localeCompare(grantKey(b)));
}

/** A grant as one comparable string: scope, group, resource, verb and names. */
export function grantKey(g: RbacGrant): string {
  const names = g.resourceNames ? `[${[...g.resourceNames].sort().join(',')}]` : '';
  return `${g.scope} ${g.group || 'core'}/${g.resource} ${g.verb}${names}`;
}
