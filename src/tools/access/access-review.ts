import { z } from 'zod';
import type { Deps } from '../../contract/deps.js';
import type { AccessGrant } from './grant.js';
import { collectClusterBindings, collectGrants, collectMemberships, type BindingRow } from './inventory.js';
import { ACCESS_ANNOTATIONS } from './grant.js';
import { isDay2Binding } from './kubernetes-binding.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnv } from '../context/resolve-service.js';
import { defineTool } from '../../contract/define-tool.js';

const PRIVILEGED = new Set(['admin', 'edit', 'cluster-admin']);
/** A grant is judged unused only after this long: a grant made seconds ago has had no chance. */
export const UNUSED_GRACE_MS = 30 * 60_000;

const bindingShape = z.object({
  env: z.string(),
  namespace: z.string(),
  binding: z.string(),
  role: z.string().describe('Kind/name of the bound role'),
  subjects: z.array(z.string()).describe('Kind name'),
  made_by: z.string().describe('day2, or the managed-by label of whoever made it, or unknown'),
  access: z.enum(['standing', 'time_bound']),
  expires_at: z.string().optional(),
  created_at: z.string().optional(),
  revoke_with: z.object({ tool: z.literal('revoke_access'), arguments: z.record(z.string(), z.unknown()) }),
});

export const accessReview = defineTool({
  name: 'access_review',
  title: 'Access review',
  description:
    'Who holds admin/edit in production, bindings day2 did not make, unused grants, standing access.',
  toolset: 'access',
  effect: 'read',
  risk: 'low',
  input: {
    env: z.string().min(1).optional().describe('default: production tier'),
    limit: z.number().int().min(1).max(200).optional().meta({ default: 50, description: 'per section' }),
  },
  output: {
    envs: z.array(z.string()),
    privileged: z.array(bindingShape).describe('admin and edit bindings'),
    not_made_by_day2: z.array(bindingShape).describe('standing bindings someone else made'),
    sources: z
      .array(z.object({ source: z.string(), read: z.array(z.string()), found: z.number() }))
      .describe('what was read: RoleBindings, ClusterRoleBindings, database roles, day2 grants'),
    database_members: z
      .array(
        z.object({
          env: z.string(),
          database: z.string(),
          role: z.string(),
          member: z.string(),
          made_by: z.string(),
        }),
      )
      .describe('login roles holding a database role'),
    too_new_to_judge: z.array(
      z.object({ grant_id: z.string(), principal: z.string(), created_at: z.string() }),
    ),
    unused_grants: z.array(
      z.object({
        grant_id: z.string(),
        principal: z.string(),
        env: z.string(),
        role: z.string(),
        where: z.string(),
        created_at: z.string(),
        expires_at: z.string(),
      }),
    ),
    counts: z.object({
      bindings: z.number(),
      standing: z.number(),
      time_bound: z.number(),
      privileged: z.number(),
      not_made_by_day2: z.number(),
      unused_grants: z.number(),
      too_new_to_judge: z.number(),
    }),
    gaps: z.array(gapShape),
  },
  scope: (args) => ({ env: args.env }),
  async run(args, ctx) {
    const deps = ctx.deps;
    const envs = args.env
      ? [resolveEnv(deps, args.env)]
      : Object.entries(deps.config.environments)
          .filter(([, e]) => e.tier === 'production')
          .map(([n]) => n);
    const limit = args.limit ?? 50;
    const now = deps.clock.now();
    const [{ grants, bindings, gaps }, cluster, db] = await Promise.all([
      collectGrants(deps, envs),
      collectClusterBindings(deps, envs),
      collectMemberships(deps, envs),
    ]);
    const active = grants.filter((g) => g.status === 'active' && Date.parse(g.expires_at) > now.getTime());
    const all = [...bindings, ...cluster.bindings.map((b) => ({ ...b, namespace: '*' }))];
    const privilegedNames = new Set(all.filter(isPrivileged).map((b) => `${b.env}/${b.namespace}/${b.name}`));
    const rows = all
      .map(row)
      .sort(
        (a, b) =>
          a.env.localeCompare(b.env) ||
          a.namespace.localeCompare(b.namespace) ||
          a.binding.localeCompare(b.binding),
      );
    const privileged = rows.filter((r) => privilegedNames.has(`${r.env}/${r.namespace}/${r.binding}`));
    const foreign = rows.filter((r) => r.made_by !== 'day2');
    const cutoff = now.getTime() - UNUSED_GRACE_MS;
    const fresh = active.filter((g) => Date.parse(g.created_at) > cutoff);
    const unused = await unusedGrants(
      deps,
      active.filter((g) => !fresh.includes(g)),
    );
    const dbActive = active.filter((g) => g.kind === 'database');
    const dbGrants = dbActive.length;
    const byDay2 = new Set(dbActive.map((g) => `${g.env}/${g.database}/${g.role}/${g.principal}`));
    const members = db.memberships.map((m) => ({
      ...m,
      made_by: byDay2.has(`${m.env}/${m.database}/${m.role}/${m.member}`) ? 'day2' : 'unknown',
    }));
    const k8sEnvs = envs.filter((e) => deps.backends.has(e, 'kubernetes'));
    const sources = [
      {
        source: 'RoleBindings',
        read: k8sEnvs.map((e) => `${e}: ${deps.backends.kubernetes(e).namespaces.join(', ')}`),
        found: bindings.length,
      },
      { source: 'ClusterRoleBindings', read: k8sEnvs, found: cluster.bindings.length },
      { source: 'database roles', read: db.read, found: db.memberships.length },
      { source: 'day2 grants', read: ['day2 store', 'day2 RoleBinding annotations'], found: active.length },
    ];
    return {
      envs,
      privileged: privileged.slice(0, limit),
      not_made_by_day2: foreign.slice(0, limit),
      sources,
      database_members: members.slice(0, limit),
      too_new_to_judge: fresh
        .slice(0, limit)
        .map((g) => ({ grant_id: g.id, principal: g.principal, created_at: g.created_at })),
      unused_grants: unused.slice(0, limit),
      counts: {
        bindings: rows.length,
        standing: rows.filter((r) => r.access === 'standing').length,
        time_bound: rows.filter((r) => r.access === 'time_bound').length + dbGrants,
        privileged: privileged.length,
        not_made_by_day2: foreign.length,
        unused_grants: unused.length,
        too_new_to_judge: fresh.length,
      },
      gaps: [...gaps, ...cluster.gaps, ...db.gaps],
    };
  },
  render: (o) =>
    [
      `Access in ${o.envs.join(', ') || 'no environment'}: ${o.counts.bindings} bindings, ${o.counts.standing} standing, ${o.counts.time_bound} time-bound; ${o.counts.privileged} admin/edit; ${o.counts.not_made_by_day2} not made by day2; ${o.counts.unused_grants} grants unused`,
      ...o.privileged.map(
        (r) =>
          `privileged: ${r.env}/${r.namespace} ${r.binding} ${r.role} → ${r.subjects.join(', ')} (${r.access}${r.expires_at ? ` until ${r.expires_at}` : ''}, made by ${r.made_by})`,
      ),
      ...o.not_made_by_day2
        .filter((r) => !o.privileged.includes(r))
        .map(
          (r) =>
            `not day2: ${r.env}/${r.namespace} ${r.binding} ${r.role} → ${r.subjects.join(', ')} (made by ${r.made_by})`,
        ),
      ...o.unused_grants.map(
        (g) => `unused: ${g.grant_id} ${g.principal} ${g.role} on ${g.where} since ${g.created_at}`,
      ),
      ...o.too_new_to_judge.map(
        (g) =>
          `not judged yet: ${g.grant_id} ${g.principal}, granted ${g.created_at} (unused counts after ${UNUSED_GRACE_MS / 60_000} minutes)`,
      ),
      ...o.database_members
        .filter((m) => m.made_by !== 'day2')
        .map(
          (m) => `database: ${m.env}/${m.database} ${m.member} is a member of ${m.role} (not made by day2)`,
        ),
      `Read: ${o.sources.map((s) => `${s.source} (${s.read.length ? `${s.read.join('; ')}: ${s.found}` : 'none configured'})`).join('; ')}`,
      o.gaps.length ? `Not read: ${o.gaps.map((g) => `${g.env}: ${g.reason}`).join('; ')}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
});

/** admin, edit or cluster-admin; a narrowed day2 Role by the role it stands for (edit on one service is edit). */
function isPrivileged(b: BindingRow): boolean {
  const asked = isDay2Binding(b) ? b.annotations[ACCESS_ANNOTATIONS.role] : undefined;
  return PRIVILEGED.has(asked ?? b.role.name);
}

function row(b: BindingRow): z.infer<typeof bindingShape> {
  const day2 = isDay2Binding(b);
  const expires = day2 ? b.annotations['day2.dev/expires-at'] : undefined;
  return {
    env: b.env,
    namespace: b.namespace,
    binding: b.name,
    role: `${b.role.kind}/${b.role.name}`,
    subjects: b.subjects.map((s) => `${s.kind} ${s.name}`),
    made_by: day2 ? 'day2' : (b.labels['app.kubernetes.io/managed-by'] ?? 'unknown'),
    access: expires ? 'time_bound' : 'standing',
    expires_at: expires,
    created_at: b.createdAt,
    revoke_with: {
      tool: 'revoke_access',
      arguments:
        day2 && b.labels['day2.dev/grant-id']
          ? { env: b.env, grant_id: b.labels['day2.dev/grant-id'] }
          : { env: b.env, namespace: b.namespace, binding: b.name },
    },
  };
}

/** Active grants whose grantee has made no tool call since the grant, per the audit log. */
async function unusedGrants(deps: Deps, grants: AccessGrant[]) {
  const out = [];
  for (const g of grants) {
    const records = await deps.store.queryAudit({ principal: g.principal, since: g.created_at, limit: 50 });
    const used = records.some((r) => {
      const rec = JSON.parse(r.record) as { event?: string; tool?: string };
      return typeof rec.tool === 'string' && (rec.event ?? '').startsWith('tool.');
    });
    if (!used)
      out.push({
        grant_id: g.id,
        principal: g.principal,
        env: g.env,
        role: g.role,
        where: g.kind === 'kubernetes' ? `${g.env}/${g.namespace}` : `${g.env}/${g.database}`,
        created_at: g.created_at,
        expires_at: g.expires_at,
      });
  }
  return out;
}
