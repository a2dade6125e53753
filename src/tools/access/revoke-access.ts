import { z } from 'zod';
import type { AccessGrant } from './grant.js';
import { getGrant, saveGrant } from './grant-store.js';
import { grantFromBinding, isDay2Binding } from './kubernetes-binding.js';
import { target, where } from './reaper.js';
import { markRevoked, revokeOnBackend } from './revoke.js';
import { defineTool, ToolError, type Plan } from '../../contract/define-tool.js';
import { envField, reasonField } from '../../contract/fields.js';
import { resolveEnv, resolveEnvWith } from '../context/resolve-service.js';

export const revokeAccess = defineTool({
  name: 'revoke_access',
  title: 'Revoke access',
  description: 'Revoke an access grant (or a binding day2 did not make) before it expires.',
  toolset: 'access',
  effect: 'write',
  risk: 'low',
  input: {
    env: envField,
    grant_id: z.string().min(1).max(64).optional().describe('or namespace and binding'),
    namespace: z.string().min(1).max(63).optional(),
    binding: z.string().min(1).max(253).optional().describe('RoleBinding name'),
    reason: reasonField,
  },
  output: {
    env: z.string(),
    revoked: z.string().describe('what was removed'),
    grant_id: z.string().optional(),
    principal: z.string().optional(),
    removed: z.boolean().describe('false when it was already gone'),
    sessions_ended: z.number().optional(),
  },
  async plan(
    args,
    ctx,
  ): Promise<
    Plan<
      | { grant_id: string; grant_status: string }
      | { namespace: string; binding: string; role: { kind: string; name: string }; subjects: unknown[] }
    >
  > {
    const deps = ctx.deps;
    const env = resolveEnv(deps, args.env);
    if (args.grant_id) {
      const g = await getGrant(deps.store, args.grant_id);
      if (!g || g.env !== env)
        throw new ToolError(
          `grant_id: no grant ${args.grant_id} in ${env}; list_access_grants shows the grants`,
          'not_found',
          'grant_id',
        );
      // The real dry run for Kubernetes: a dryRun=All delete.
      const refusal =
        g.status === 'revoked'
          ? `grant ${g.id} was already revoked at ${g.revoked_at} by ${g.revoked_by}`
          : undefined;
      if (!refusal) await revokeOnBackend(deps, g, { dryRun: true });
      return {
        summary: `revoke ${g.principal}'s ${g.role} on ${where(g)} (grant ${g.id}, expires ${g.expires_at})`,
        env,
        service: g.service,
        targets: [target(g)],
        preconditions: { grant_id: g.id, grant_status: g.status },
        details: {
          grant: { ...g, reason: g.reason.slice(0, 200) },
          ...(g.kind === 'database'
            ? { also: "ends the grantee's open sessions and restores the login's previous VALID UNTIL" }
            : {}),
        },
        ...(refusal ? { refusal } : {}),
      };
    }
    if (!args.namespace || !args.binding)
      throw new ToolError(
        'give grant_id, or namespace and binding for a RoleBinding day2 did not make',
        'invalid_argument',
        'grant_id',
      );
    const k8s = deps.backends.kubernetes(resolveEnvWith(deps, env, 'kubernetes'));
    const rb = (await k8s.listRoleBindings(args.namespace)).find((b) => b.name === args.binding);
    if (!rb)
      throw new ToolError(
        `binding: no RoleBinding ${args.binding} in ${env}/${args.namespace}`,
        'not_found',
        'binding',
      );
    await k8s.deleteRoleBinding(args.namespace, args.binding, { dryRun: true });
    const subjects = rb.subjects.map((s) => `${s.kind} ${s.name}`);
    return {
      summary: `delete RoleBinding ${env}/${args.namespace}/${args.binding} (${rb.role.kind} ${rb.role.name} for ${subjects.join(', ')})`,
      env,
      targets: [{ kind: 'RoleBinding', name: args.binding, namespace: args.namespace }],
      preconditions: {
        namespace: args.namespace,
        binding: args.binding,
        role: rb.role,
        subjects: rb.subjects,
      },
      details: {
        binding: {
          namespace: rb.namespace,
          name: rb.name,
          role: rb.role,
          subjects,
          labels: rb.labels,
          created_at: rb.createdAt,
        },
        made_by_day2: isDay2Binding(rb),
        note: isDay2Binding(rb)
          ? undefined
          : 'day2 did not make this binding; whoever manages it (GitOps, Helm) may put it back',
      },
      risk: rb.role.name === 'admin' || rb.role.name === 'cluster-admin' ? 'high' : undefined,
    };
  },
  async execute(args, ctx, plan) {
    const deps = ctx.deps;
    const now = deps.clock.now();
    const pre = plan.preconditions;
    let g: AccessGrant | undefined;
    if ('grant_id' in pre) g = await getGrant(deps.store, pre.grant_id);
    else {
      const k8s = deps.backends.kubernetes(plan.env);
      const rb = (await k8s.listRoleBindings(pre.namespace)).find((b) => b.name === pre.binding);
      g = rb ? grantFromBinding(plan.env, rb) : undefined;
      if (!g) {
        await k8s.deleteRoleBinding(pre.namespace, pre.binding);
        return { env: plan.env, revoked: `RoleBinding ${pre.namespace}/${pre.binding}`, removed: true };
      }
    }
    if (!g)
      throw new ToolError(
        `grant_id: grant ${args.grant_id} disappeared since the plan`,
        'not_found',
        'grant_id',
      );
    const r = await revokeOnBackend(deps, g);
    await saveGrant(deps.store, markRevoked(g, ctx.principal.id, 'revoked', now));
    return {
      env: plan.env,
      revoked: where(g),
      grant_id: g.id,
      principal: g.principal,
      removed: r.removed,
      sessions_ended: r.sessionsEnded,
    };
  },
  render: (o) =>
    `Revoked ${o.revoked}${o.principal ? ` (${o.principal})` : ''}${o.removed ? '' : ' — it was already gone'}${o.sessions_ended ? `; ended ${o.sessions_ended} session(s)` : ''}.`,
});
