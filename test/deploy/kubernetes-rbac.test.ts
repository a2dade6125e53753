import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  BINDABLE_CLUSTER_ROLES,
  grantKey,
  KUBERNETES_API_CALLS,
  requiredGrants,
  type RbacGrant,
  type RbacVerb,
} from '../../src/providers/kubernetes/api-calls.js';
import { ClientNodeKubernetesProvider } from '../../src/providers/kubernetes/client-node-provider.js';
import { KUBERNETES_ROLES } from '../../src/tools/access/grant.js';
import { findObject, renderKustomization, type RenderedObject } from './render-kustomization.js';

// The class's private helpers; every other method on its prototype is a provider call.
const PRIVATE_HELPERS = ['constructor', 'readDeployment', 'scope', 'call', 'race'];

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: RbacVerb[];
}

/**
 * What the manifests grant the ServiceAccount, flattened to one grant per group, resource and verb:
 * a role bound by a ClusterRoleBinding grants cluster-wide, one bound by RoleBindings per namespace.
 */
function grantedTo(objects: readonly RenderedObject[], sa: { name: string; namespace: string }): RbacGrant[] {
  const bindings = objects.filter(
    (o) =>
      (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') &&
      (o.subjects as { kind: string; name: string; namespace?: string }[]).some(
        (s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace,
      ),
  );
  const out = new Map<string, RbacGrant>();
  for (const b of bindings) {
    const ref = b.roleRef as { kind: string; name: string };
    const role = objects.find(
      (o) =>
        o.kind === ref.kind &&
        o.metadata.name === ref.name &&
        (ref.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace),
    );
    if (!role)
      throw new Error(
        `${b.kind} ${b.metadata.name} binds ${ref.kind} ${ref.name}, which is not in the manifests`,
      );
    const scope = b.kind === 'ClusterRoleBinding' ? 'cluster' : 'namespace';
    for (const r of role.rules as Rule[])
      for (const group of r.apiGroups ?? [])
        for (const resource of r.resources ?? [])
          for (const verb of r.verbs) {
            const g: RbacGrant = {
              group,
              resource,
              verb,
              scope,
              ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
            };
            out.set(grantKey(g), g);
          }
  }
  return [...out.values()];
}

const keys = (grants: readonly RbacGrant[]) => grants.map(grantKey).sort();

describe('Kubernetes RBAC derived from the provider', () => {
  const objects = renderKustomization('overlays/postgres');
  const deployment = findObject(objects, 'Deployment', 'day2');
  const sa = {
    name: (deployment.spec as { template: { spec: { serviceAccountName: string } } }).template.spec
      .serviceAccountName,
    namespace: deployment.metadata.namespace!,
  };

  it('declares the API calls of every provider method', () => {
    const methods = Object.getOwnPropertyNames(ClientNodeKubernetesProvider.prototype).filter(
      (m) => !PRIVATE_HELPERS.includes(m),
    );
    expect(methods.length).toBeGreaterThan(30);
    expect(Object.keys(KUBERNETES_API_CALLS).sort()).toEqual(methods.sort());
  });

  it('grants the ServiceAccount exactly the rules the declarations need, no more', () => {
    expect(keys(grantedTo(objects, sa))).toEqual(keys(requiredGrants()));
  });

  it('notices a grant too many and a grant too few', () => {
    const granted = grantedTo(objects, sa);
    const withoutOne = { ...KUBERNETES_API_CALLS, listPods: [] };
    expect(keys(granted)).not.toEqual(keys(requiredGrants(withoutOne)));
    const extra = {
      ...KUBERNETES_API_CALLS,
      deletePods: [
        { group: '', resource: 'pods', verbs: ['delete'] as RbacVerb[], scope: 'namespace' as const },
      ],
    };
    expect(keys(granted)).not.toEqual(keys(requiredGrants(extra)));
  });

  it('binds exactly the ClusterRoles grant_access may bind', () => {
    expect([...BINDABLE_CLUSTER_ROLES].sort()).toEqual([...KUBERNETES_ROLES].sort());
  });

  it('binds day2 in exactly the namespaces day2.yaml names', () => {
    const config = parse(
      (findObject(objects, 'ConfigMap', 'day2-config').data as Record<string, string>)['day2.yaml']!,
    ) as { environments: Record<string, { kubernetes?: { namespaces: string[] } }> };
    const configured = new Set(
      Object.values(config.environments).flatMap((e) => e.kubernetes?.namespaces ?? []),
    );
    const bound = objects
      .filter((o) => o.kind === 'RoleBinding' && (o.roleRef as { name: string }).name === 'day2')
      .map((o) => o.metadata.namespace);
    expect(bound.sort()).toEqual([...configured].sort());
  });
});
