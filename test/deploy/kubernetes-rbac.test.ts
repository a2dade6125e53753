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
import { rulesFor } from '../../scripts/kubernetes-rbac.js';
import { ClientNodeKubernetesProvider } from '../../src/providers/kubernetes/client-node-provider.js';
import { servedToolsets, TOOLSETS } from '../../src/core/toolsets.js';
import { KUBERNETES_ROLES } from '../../src/tools/access/grant.js';
import {
  KUBERNETES_METHODS_ALWAYS,
  KUBERNETES_METHODS_BY_TOOLSET,
  kubernetesMethodsFor,
} from '../../src/tools/kubernetes-calls.js';
import { providerCallsReached } from './provider-call-scan.js';
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

  const config = parse(
    (findObject(objects, 'ConfigMap', 'day2-config').data as Record<string, string>)['day2.yaml']!,
  ) as { toolsets?: string[]; environments: Record<string, { kubernetes?: { namespaces: string[] } }> };
  const served = servedToolsets(config.toolsets) ?? [...TOOLSETS];
  const methods = kubernetesMethodsFor(served);

  it('declares the provider methods each toolset reaches, and those called whatever the toolsets', () => {
    const all = Object.keys(KUBERNETES_API_CALLS);
    for (const [toolset, declared] of Object.entries(KUBERNETES_METHODS_BY_TOOLSET))
      expect([...declared].sort(), toolset).toEqual(providerCallsReached([`tools/${toolset}/index.ts`], all));
    expect([...KUBERNETES_METHODS_ALWAYS].sort()).toEqual(
      providerCallsReached(['resources/index.ts', 'prompts/index.ts', 'tools/access/reaper.ts'], all),
    );
  });

  it('grants the ServiceAccount exactly the rules the served toolsets need, no more', () => {
    const granted = keys(grantedTo(objects, sa));
    const needed = keys(requiredGrants(methods));
    const diff = {
      missing: needed.filter((k) => !granted.includes(k)),
      extra: granted.filter((k) => !needed.includes(k)),
    };
    expect(diff, `toolsets ${served.join(', ')}`).toEqual({ missing: [], extra: [] });
  });

  it('holds the rules npm run k8s:rbac prints for the served toolsets', () => {
    const grants = requiredGrants(methods);
    expect(findObject(objects, 'ClusterRole', 'day2').rules).toEqual(
      rulesFor(grants.filter((g) => g.scope === 'namespace')),
    );
    expect(findObject(objects, 'ClusterRole', 'day2-cluster').rules).toEqual(
      rulesFor(grants.filter((g) => g.scope === 'cluster')),
    );
  });

  it('notices a grant too many and a grant too few', () => {
    const granted = keys(grantedTo(objects, sa));
    expect(granted).toEqual(keys(requiredGrants(methods)));
    expect(granted).not.toEqual(keys(requiredGrants(methods.filter((m) => m !== 'getPodLogs'))));
    expect(granted).not.toEqual(keys(requiredGrants([...methods, 'upsertHpa'])));
    const extraVerb = {
      ...KUBERNETES_API_CALLS,
      listPods: [
        { group: '', resource: 'pods', verbs: ['list', 'delete'] as RbacVerb[], scope: 'namespace' as const },
      ],
    };
    expect(granted).not.toEqual(keys(requiredGrants(methods, extraVerb)));
  });

  it('needs less than the whole provider: no role escalation or binding without the access toolset', () => {
    expect(served).not.toContain('access');
    const needed = keys(requiredGrants(methods));
    expect(needed.length).toBeLessThan(keys(requiredGrants()).length);
    expect(needed.filter((k) => / (bind|escalate)/.test(k))).toEqual([]);
  });

  it('binds exactly the ClusterRoles grant_access may bind', () => {
    expect([...BINDABLE_CLUSTER_ROLES].sort()).toEqual([...KUBERNETES_ROLES].sort());
  });

  it('binds day2 in exactly the namespaces day2.yaml names', () => {
    const configured = new Set(
      Object.values(config.environments).flatMap((e) => e.kubernetes?.namespaces ?? []),
    );
    const bound = objects
      .filter((o) => o.kind === 'RoleBinding' && (o.roleRef as { name: string }).name === 'day2')
      .map((o) => o.metadata.namespace);
    expect(bound.sort()).toEqual([...configured].sort());
  });
});
