/** One REST resource the emulator serves, as discovery describes it. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  subresources?: string[];
  /** Read-only resources (metrics) refuse writes with MethodNotAllowed. */
  readOnly?: boolean;
}

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const RO = ['get', 'list'];

function rt(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceType> = {},
): ResourceType {
  return { group, version, plural, singular: kind.toLowerCase(), kind, namespaced, verbs: RW, ...extra };
}

/** Every resource type the emulator knows. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  rt('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'] }),
  rt('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], subresources: ['status', 'log'] }),
  rt('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  rt('', 'v1', 'secrets', 'Secret', true),
  rt('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  rt('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  rt('', 'v1', 'services', 'Service', true, { shortNames: ['svc'] }),
  rt('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'] }),
  rt('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'] }),
  rt('', 'v1', 'resourcequotas', 'ResourceQuota', true, { shortNames: ['quota'] }),
  rt('apps', 'v1', 'deployments', 'Deployment', true, {
    shortNames: ['deploy'],
    subresources: ['scale', 'status'],
  }),
  rt('apps', 'v1', 'replicasets', 'ReplicaSet', true, {
    shortNames: ['rs'],
    subresources: ['scale', 'status'],
  }),
  rt('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, {
    shortNames: ['hpa'],
    subresources: ['status'],
  }),
  rt('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  rt('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  rt('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  rt('metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics', true, { verbs: RO, readOnly: true }),
];

export function groupVersion(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function findByPlural(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function findByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => groupVersion(t) === apiVersion && t.kind === kind);
}

/** The APIResourceList served at /api/v1 or /apis/<group>/<version>. */
export function discoveryDocument(group: string, version: string): Record<string, unknown> | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const t of types) {
    const entry: Record<string, unknown> = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
    };
    if (t.shortNames) entry.shortNames = t.shortNames;
    resources.push(entry);
    for (const sub of t.subresources ?? []) {
      const subEntry: Record<string, unknown> = {
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: sub === 'scale' ? 'Scale' : t.kind,
        verbs: sub === 'log' ? ['get'] : ['get', 'patch', 'update'],
      };
      if (sub === 'scale') {
        subEntry.group = 'autoscaling';
        subEntry.version = 'v1';
      }
      resources.push(subEntry);
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

/** The APIGroupList served at /apis. */
export function groupList(): Record<string, unknown> {
  const groups = new Map<string, string>();
  for (const t of RESOURCE_TYPES) if (t.group) groups.set(t.group, t.version);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, version]) => ({
      name,
      versions: [{ groupVersion: `${name}/${version}`, version }],
      preferredVersion: { groupVersion: `${name}/${version}`, version },
    })),
  };
}
