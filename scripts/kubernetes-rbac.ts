/**
 * Prints the ClusterRole rules day2's ServiceAccount needs to serve the given toolsets (default:
 * the default toolsets; `all` for every one), derived from the provider's declared API calls and
 * the toolsets' provider methods: `npm run k8s:rbac -- context,incidents,deploys`. Paste them into
 * deploy/kubernetes/base/rbac.yaml together with `toolsets:` in its ConfigMap; the RBAC test then
 * holds the two equal. Cluster-scoped rules belong in the day2-cluster ClusterRole.
 */
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { servedToolsets, TOOLSETS } from '../src/core/toolsets.js';
import { requiredGrants, type RbacGrant } from '../src/providers/kubernetes/api-calls.js';
import { kubernetesMethodsFor } from '../src/tools/kubernetes-calls.js';

export interface PolicyRuleYaml {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** Grants folded into rules: one per group, verb set and names, listing its resources. */
export function rulesFor(grants: readonly RbacGrant[]): PolicyRuleYaml[] {
  const verbs = new Map<string, Set<string>>();
  for (const g of grants) {
    const key = JSON.stringify([g.group, g.resource, g.resourceNames ?? null]);
    verbs.set(key, (verbs.get(key) ?? new Set()).add(g.verb));
  }
  const rules = new Map<string, PolicyRuleYaml>();
  for (const [key, vs] of verbs) {
    const [group, resource, names] = JSON.parse(key) as [string, string, string[] | null];
    const sorted = [...vs].sort();
    const ruleKey = JSON.stringify([group, sorted, names]);
    const rule = rules.get(ruleKey) ?? {
      apiGroups: [group],
      resources: [],
      ...(names ? { resourceNames: names } : {}),
      verbs: sorted,
    };
    rule.resources.push(resource);
    rules.set(ruleKey, rule);
  }
  return [...rules.values()]
    .map((r) => ({ ...r, resources: r.resources.sort() }))
    .sort((a, b) =>
      JSON.stringify([a.apiGroups, a.resources]).localeCompare(JSON.stringify([b.apiGroups, b.resources])),
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const requested = process.argv[2]?.split(',').filter(Boolean);
  const toolsets = servedToolsets(requested) ?? [...TOOLSETS];
  const grants = requiredGrants(kubernetesMethodsFor(toolsets));
  process.stdout.write(
    `# toolsets: ${toolsets.join(', ')}\n` +
      stringify({
        namespaced: rulesFor(grants.filter((g) => g.scope === 'namespace')),
        cluster: rulesFor(grants.filter((g) => g.scope === 'cluster')),
      }),
  );
}
