import { environmentConfig } from '../../config/lookup.js';
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

/** Kubernetes' own bindings (`system:` names) are the cluster's plumbing, not access anyone was given. */
const SYSTEM = /^system:/;

/** ClusterRoleBindings of `envs` that are not the cluster's own, with the environments that failed. */
export async function collectClusterBindings(
  deps: Deps,
  envs: string[],
): Promise<{ bindings: BindingRow[]; gaps: Gap[] }> {
  const tasks = envs
    .filter((env) => deps.backends.has(env, 'kubernetes'))
    .map((env) => ({
      backend: 'kubernetes',
      env,
      run: async () =>
        (await deps.backends.kubernetes(env).listClusterRoleBindings())
          .filter((b) => !SYSTEM.test(b.name) && !SYSTEM.test(b.role.name))
          .map((b) => ({ ...b, env })),
    }));
  const { results, gaps } = await gather(tasks, deps.config.backends.timeout);
  return { bindings: results.flatMap((r) => r.value), gaps };
}

/** A login's membership in a database role, as pg_auth_members has it. */
export interface MembershipRow {
  env: string;
  database: string;
  role: string;
  member: string;
}

/** Memberships of login roles in the configured databases of `envs` (PostgreSQL's own roles left out). */
export async function collectMemberships(
  deps: Deps,
  envs: string[],
): Promise<{ memberships: MembershipRow[]; read: string[]; gaps: Gap[] }> {
  const refs = envs.flatMap((env) =>
    Object.keys(environmentConfig(deps.config, env)?.databases ?? {})
      .map((database) => ({ env, database }))
      .filter((ref) => deps.backends.postgres.has(ref)),
  );
  const tasks = refs.map((ref) => ({
    backend: 'postgres',
    env: ref.env,
    run: async () =>
      (
        await deps.backends.postgres.query<{ role: string; member: string }>(
          ref,
          `select r.rolname as role, m.rolname as member
             from pg_auth_members a join pg_roles r on r.oid = a.roleid join pg_roles m on m.oid = a.member
            where m.rolcanlogin and r.rolname not like 'pg\\_%' order by 1, 2`,
        )
      ).map((row) => ({ ...ref, ...row })),
  }));
  const { results, gaps } = await gather(tasks, deps.config.backends.timeout);
  const failed = new Set(gaps.map((g) => g.env));
  return {
    memberships: results.flatMap((r) => r.value),
    read: refs.filter((r) => !failed.has(r.env)).map((r) => `${r.env}/${r.database}`),
    gaps,
  };
}
