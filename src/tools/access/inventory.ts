import type { Deps } from '../../contract/deps.js';
import { gather, type Gap } from '../context/gather.js';
import type { RoleBindingInfo } from '../../providers/kubernetes/types.js';
import { listGrants } from './grant-store.js';
import type { AccessGrant } from './grant.js';
import { grantFromBinding } from './kubernetes-binding.js';

export interface BindingRow extends RoleBindingInfo {
  env: string;
}

/** Every RoleBinding in the configured namespaces of `envs`, with the environments that failed. */
export async function collectBindings(
  deps: Deps,
  envs: string[],
): Promise<{ bindings: BindingRow[]; gaps: Gap[] }> {
  const tasks = envs
    .filter((env) => deps.backends.has(env, 'kubernetes'))
    .flatMap((env) => {
      const k8s = deps.backends.kubernetes(env);
      return k8s.namespaces.map((ns) => ({
        backend: 'kubernetes',
        env,
        run: async () => (await k8s.listRoleBindings(ns)).map((b) => ({ ...b, env })),
      }));
    });
  const { results, gaps } = await gather(tasks, deps.config.backends.timeout);
  return { bindings: results.flatMap((r) => r.value), gaps };
}

/**
 * The grants of `envs`: the store's records, completed by day2 RoleBindings the store does not
 * know (the annotations are the truth when the store was lost). A stored active grant whose
 * binding is gone from a readable namespace is reported as revoked outside day2.
 */
export async function collectGrants(
  deps: Deps,
  envs: string[],
): Promise<{ grants: AccessGrant[]; bindings: BindingRow[]; gaps: Gap[] }> {
  const [stored, { bindings, gaps }] = await Promise.all([
    listGrants(deps.store),
    collectBindings(deps, envs),
  ]);
  const wanted = new Set(envs);
  const byId = new Map<string, AccessGrant>();
  for (const g of stored) if (wanted.has(g.env)) byId.set(g.id, g);
  const live = new Set<string>();
  for (const b of bindings) {
    const g = grantFromBinding(b.env, b);
    if (!g) continue;
    live.add(g.id);
    if (!byId.has(g.id)) byId.set(g.id, g);
  }
  const failedEnvs = new Set(gaps.map((g) => g.env));
  for (const g of byId.values()) {
    if (
      g.kind === 'kubernetes' &&
      g.status === 'active' &&
      !live.has(g.id) &&
      !failedEnvs.has(g.env) &&
      deps.backends.has(g.env, 'kubernetes')
    )
      byId.set(g.id, {
        ...g,
        status: 'revoked',
        revoked_by: 'outside day2 (binding gone)',
        revoked_at: g.revoked_at,
      });
  }
  return {
    grants: [...byId.values()].sort((a, b) => a.expires_at.localeCompare(b.expires_at)),
    bindings,
    gaps,
  };
}
