import { environmentConfig } from '../../config/lookup.js';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Deps } from '../../contract/deps.js';
import { applyDatabaseGrant, inspectDatabaseGrant } from './database-grant.js';
import { isKubernetesRole, KUBERNETES_ROLES, type AccessGrant } from './grant.js';
import { listGrants, saveGrant } from './grant-store.js';
import { bindingName, bindingSpec, isDay2Binding } from './kubernetes-binding.js';
import { describeObjects, notCovered, serviceObjects, serviceRules } from './service-role.js';
import type { PolicyRule, RoleSpec } from '../../providers/kubernetes/types.js';
import { defineTool, ToolError, type Plan } from '../../contract/define-tool.js';
import { durationField, durationMs, envField } from '../../contract/fields.js';
import { resolveEnv, resolveEnvWith } from '../context/resolve-service.js';

const VALID_UNTIL_NOTE =
  "VALID UNTIL is the expiry of the login password: after it PostgreSQL refuses password authentication for this user on the whole server (open sessions continue; trust/peer/cert logins are unaffected). It is a safety net; the reaper REVOKEs the role at expiry, restores the previous VALID UNTIL and ends the user's sessions.";

/**
 * What a grant's execution needs: where the RoleBinding goes, or the database and the login's
 * VALID UNTIL before the grant (restored at expiry).
 */
type GrantPreconditions =
  | {
      kind: 'kubernetes';
      namespace: string;
      binding: string;
      binding_exists: boolean;
      /** The Role that narrows a service grant to its named objects; null: namespace-wide. */
      k8s_role: string | null;
      rules: PolicyRule[] | null;
    }
  | { kind: 'database'; database: string; member: boolean; valid_until: string | null };

export const grantAccess = defineTool({
  name: 'grant_access',
  title: 'Grant time-bound access',
  description: 'Time-bound access: a Kubernetes RoleBinding or a database role, revoked at expiry.',
  toolset: 'access',
  effect: 'write',
  risk: 'high',
  input: {
    principal: z
      .string()
      .min(1)
      .max(200)
      .describe('Kubernetes user, or PostgreSQL login role for database grants'),
    env: envField,
    scope: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe('service (its objects only) or namespace:<name> (all of it), for Kubernetes grants'),
    database: z.string().min(1).max(63).optional().describe('day2.yaml databases key: a database grant'),
    role: z.string().min(1).max(63).describe('view, edit or admin; or a database role'),
    duration: durationField('e.g. 4h; policy caps it'),
    reason: z.string().min(1).max(500).describe('ticket or incident; shown to approvers'),
  },
  output: {
    grant_id: z.string(),
    kind: z.enum(['kubernetes', 'database']),
    principal: z.string(),
    env: z.string(),
    role: z.string(),
    namespace: z.string().optional(),
    binding: z.string().optional(),
    covers: z.string().optional(),
    database: z.string().optional(),
    expires_at: z.string(),
    approved_by: z.array(z.string()),
    revoke_with: z.object({ tool: z.literal('revoke_access'), arguments: z.record(z.string(), z.unknown()) }),
  },
  async plan(args, ctx) {
    const deps = ctx.deps;
    const env = resolveEnv(deps, args.env);
    const ms = durationMs(args.duration)!;
    const cap = deps.config.access?.max_duration;
    const capRefusal =
      cap !== undefined && ms > cap
        ? `duration ${args.duration} is longer than access.max_duration (${Math.round(cap / 60_000)} minutes); ask for less`
        : undefined;
    const common = {
      grantee: args.principal,
      role: args.role,
      duration: args.duration,
      expires: `${args.duration} after execution`,
      reason: args.reason,
      excluded_approvers: [args.principal],
    };
    if (args.database) return planDatabase(deps, env, args, common, capRefusal);
    return planKubernetes(deps, env, args, common, capRefusal);
  },
  async execute(args, ctx, plan) {
    const deps = ctx.deps;
    const now = deps.clock.now();
    const pre = plan.preconditions;
    const grant: AccessGrant = {
      id: `g-${randomBytes(6).toString('hex')}`,
      kind: pre.kind,
      principal: args.principal,
      env: plan.env,
      service: plan.service,
      role: args.role,
      reason: args.reason,
      requested_by: ctx.principal.id,
      approved_by: ctx.action.approvers,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + durationMs(args.duration)!).toISOString(),
      status: 'active',
      ...(pre.kind === 'database'
        ? { database: pre.database, previous_valid_until: pre.valid_until }
        : {
            namespace: pre.namespace,
            binding: pre.binding,
            ...(pre.k8s_role ? { k8s_role: pre.k8s_role } : {}),
          }),
    };
    // Recorded before the backend changes: a grant day2 made is never unknown to the reaper.
    await saveGrant(deps.store, grant);
    try {
      if (pre.kind === 'database')
        await applyDatabaseGrant(deps.backends.postgres, { env: grant.env, database: pre.database }, grant);
      else await bindKubernetes(deps, grant, pre);
    } catch (err) {
      await deps.store.deleteDoc('access_grants', grant.id).catch(() => undefined);
      throw err;
    }
    return {
      grant_id: grant.id,
      kind: grant.kind,
      principal: grant.principal,
      env: grant.env,
      role: grant.role,
      namespace: grant.namespace,
      binding: grant.binding,
      covers:
        pre.kind === 'kubernetes'
          ? pre.k8s_role
            ? `only the objects of Role ${pre.k8s_role}`
            : `every object in ${grant.env}/${pre.namespace}`
          : undefined,
      database: grant.database,
      expires_at: grant.expires_at,
      approved_by: grant.approved_by,
      revoke_with: { tool: 'revoke_access' as const, arguments: { env: grant.env, grant_id: grant.id } },
    };
  },
  render: (o) =>
    `Granted ${o.principal} ${o.role} on ${o.kind === 'kubernetes' ? `${o.env}/${o.namespace} (RoleBinding ${o.binding}; ${o.covers})` : `${o.env}/${o.database}`} until ${o.expires_at} (grant ${o.grant_id}${o.approved_by.length ? `, approved by ${o.approved_by.join(', ')}` : ''}). Revoke early with revoke_access {"env":"${o.env}","grant_id":"${o.grant_id}"}.`,
});

type GrantArgs = {
  principal: string;
  scope?: string;
  database?: string;
  role: string;
  duration: string;
  reason: string;
};

async function planKubernetes(
  deps: Deps,
  env: string,
  args: GrantArgs,
  common: Record<string, unknown>,
  capRefusal: string | undefined,
): Promise<Plan<GrantPreconditions>> {
  if (!isKubernetesRole(args.role))
    throw new ToolError(
      `role: Kubernetes grants bind one of ${KUBERNETES_ROLES.join(', ')}; for a database role give database as well`,
      'invalid_argument',
      'role',
    );
  if (!args.scope)
    throw new ToolError(
      'scope: name the namespace or service the access is for (or give database for a database grant)',
      'invalid_argument',
      'scope',
    );
  const k8s = deps.backends.kubernetes(resolveEnvWith(deps, env, 'kubernetes'));
  const asked = /^namespace:(.+)$/.exec(args.scope)?.[1];
  const svc = asked ? undefined : deps.catalog.resolver.findService(args.scope, env);
  const workload = svc ? deps.catalog.workloadFor(svc.id, env) : undefined;
  const wanted = asked ?? args.scope;
  const namespace = svc ? workload?.namespace : k8s.namespaces.includes(wanted) ? wanted : undefined;
  if (!namespace) {
    const close = svc || asked ? [] : deps.catalog.resolver.suggest(args.scope, 'service', 3);
    throw new ToolError(
      `scope: "${args.scope}" is neither a service with a workload in ${env} nor one of its namespaces (${k8s.namespaces.join(', ')})${close.length ? `; did you mean ${close.join(', ')}?` : ''}`,
      'not_found',
      'scope',
    );
  }
  // A service grant binds a Role limited to the service's named objects; a namespace grant, the ClusterRole.
  const objects = svc && workload ? await serviceObjects(k8s, namespace, workload.name) : undefined;
  const rules = objects ? serviceRules(args.role, objects) : null;
  const name = bindingName(args.principal, svc ? `${args.role}-${svc.id}` : args.role);
  const k8sRole = rules ? name : null;
  const existing = (await k8s.listRoleBindings(namespace)).find((b) => b.name === name);
  const active = (await listGrants(deps.store)).find(
    (g) =>
      g.status === 'active' &&
      g.kind === 'kubernetes' &&
      g.env === env &&
      g.namespace === namespace &&
      g.binding === name,
  );
  let refusal = capRefusal;
  if (!refusal && existing)
    refusal = isDay2Binding(existing)
      ? `${args.principal} already holds ${args.role} in ${env}/${namespace} until ${existing.annotations['day2.dev/expires-at'] ?? 'unknown'} (grant ${active?.id ?? existing.labels['day2.dev/grant-id']}); revoke it first to change the duration`
      : `a RoleBinding named ${name} already exists in ${env}/${namespace} and day2 did not make it`;
  const preview: AccessGrant = {
    id: 'g-planned',
    kind: 'kubernetes',
    principal: args.principal,
    env,
    service: svc?.id,
    role: args.role,
    namespace,
    binding: name,
    ...(k8sRole ? { k8s_role: k8sRole } : {}),
    reason: args.reason,
    requested_by: 'planned',
    approved_by: [],
    created_at: deps.clock.now().toISOString(),
    expires_at: new Date(deps.clock.now().getTime() + durationMs(args.duration)!).toISOString(),
    status: 'active',
  };
  // The real dry run: the API server validates the Role and the binding (dryRun=All) without storing them.
  if (!refusal && rules) await k8s.createRole(namespace, roleSpec(preview, rules), { dryRun: true });
  if (!refusal) await k8s.createRoleBinding(namespace, bindingSpec(preview), { dryRun: true });
  const covers = objects
    ? `${args.role} on ${svc!.id}'s objects only: ${describeObjects(args.role, objects)}`
    : `${args.role} on every object in namespace ${env}/${namespace} (the whole namespace, as asked)`;
  const prod = environmentConfig(deps.config, env)?.tier === 'production';
  return {
    summary: `grant ${args.principal} ${covers} in ${env}/${namespace} for ${args.duration}: ${args.reason.slice(0, 120)}`,
    env,
    service: svc?.id,
    targets: [
      ...(k8sRole ? [{ kind: 'Role', name: k8sRole, namespace, service: svc?.id }] : []),
      { kind: 'RoleBinding', name, namespace, service: svc?.id },
    ],
    preconditions: {
      kind: 'kubernetes',
      namespace,
      binding: name,
      binding_exists: Boolean(existing),
      k8s_role: k8sRole,
      rules,
    },
    details: {
      ...common,
      covers,
      ...(objects ? { not_covered: notCovered(namespace) } : {}),
      namespace,
      binding: name,
      ...(rules ? { role: { kind: 'Role', name: k8sRole, rules } } : { cluster_role: args.role }),
      subject: { kind: 'User', name: args.principal },
      labels: bindingSpec(preview).labels,
      annotations: [
        'day2.dev/expires-at',
        'day2.dev/granted-by',
        'day2.dev/approved-by',
        'day2.dev/reason',
        'day2.dev/grant-id',
      ],
      revoked_by: 'the day2 access reaper at expiry, or revoke_access earlier',
    },
    risk: args.role === 'admin' && prod ? 'critical' : undefined,
    refusal,
  };
}

async function planDatabase(
  deps: Deps,
  env: string,
  args: GrantArgs,
  common: Record<string, unknown>,
  capRefusal: string | undefined,
): Promise<Plan<GrantPreconditions>> {
  const ref = { env, database: args.database! };
  if (!deps.backends.postgres.has(ref))
    throw new ToolError(
      `database: no database "${args.database}" in environments.${env}.databases`,
      'not_found',
      'database',
    );
  const state = await inspectDatabaseGrant(deps.backends.postgres, ref, args.principal, args.role);
  let refusal = capRefusal;
  if (!refusal && !state.userExists)
    refusal = `no PostgreSQL role named "${args.principal}" exists on ${env}/${args.database}; the grantee needs a login role first`;
  else if (!refusal && !state.roleExists)
    refusal = `no PostgreSQL role named "${args.role}" exists on ${env}/${args.database}`;
  else if (!refusal && state.alreadyMember)
    refusal = `"${args.principal}" is already a member of "${args.role}" on ${env}/${args.database}`;
  return {
    summary: `grant ${args.principal} database role ${args.role} on ${env}/${args.database} for ${args.duration}: ${args.reason.slice(0, 120)}`,
    env,
    targets: [
      { kind: 'DatabaseRoleMembership', name: `${args.role}:${args.principal}`, namespace: args.database },
    ],
    preconditions: {
      kind: 'database',
      database: ref.database,
      member: state.alreadyMember,
      valid_until: state.validUntil,
    },
    details: {
      ...common,
      database: args.database,
      statements: [
        `GRANT "${args.role}" TO "${args.principal}"`,
        `ALTER ROLE "${args.principal}" VALID UNTIL '<execution time + ${args.duration}>'`,
      ],
      login_valid_until_now: state.validUntil ?? 'none',
      can_login: state.userCanLogin,
      valid_until_semantics: VALID_UNTIL_NOTE,
    },
    refusal,
  };
}

/** The Role that narrows a service grant, labelled and annotated as its binding is. */
function roleSpec(g: AccessGrant, rules: PolicyRule[]): RoleSpec {
  const b = bindingSpec(g);
  return { name: g.k8s_role!, rules, labels: b.labels, annotations: b.annotations };
}

/** Creates the grant's Role (if narrowed) and its RoleBinding; a Role left alone by a failed binding is removed. */
async function bindKubernetes(
  deps: Deps,
  grant: AccessGrant,
  pre: Extract<GrantPreconditions, { kind: 'kubernetes' }>,
): Promise<void> {
  const k8s = deps.backends.kubernetes(grant.env);
  if (pre.k8s_role && pre.rules) await k8s.createRole(pre.namespace, roleSpec(grant, pre.rules));
  try {
    await k8s.createRoleBinding(pre.namespace, bindingSpec(grant));
  } catch (err) {
    if (pre.k8s_role) await k8s.deleteRole(pre.namespace, pre.k8s_role).catch(() => undefined);
    throw err;
  }
}
