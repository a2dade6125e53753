import { collectGrants } from '../../../access/inventory.js';
import { isDay2Binding } from '../../../access/kubernetes-binding.js';
import { isoDate, isProduction, type BacklogItem, type BacklogSource } from '../item.js';

const PRIVILEGED = new Set(['admin', 'edit', 'cluster-admin']);

/** Grants that expire (or expired unreaped), and standing admin/edit bindings in production that day2 did not make. */
export const accessSource: BacklogSource = {
  name: 'access',
  category: 'access',
  async collect({ deps, envs, now }) {
    const { grants, bindings, gaps } = await collectGrants(deps, envs);
    const items: BacklogItem[] = [];
    for (const g of grants) {
      if (g.status !== 'active') continue;
      const expired = Date.parse(g.expires_at) <= now.getTime();
      const where = g.kind === 'kubernetes' ? `${g.env}/${g.namespace}` : `${g.env}/${g.database}`;
      items.push({
        id: `access:${g.env}:grant:${g.id}`,
        category: 'access',
        title: expired
          ? `Expired grant not yet revoked: ${g.principal} ${g.role} on ${where}`
          : `Expiring grant: ${g.principal} ${g.role} on ${where} until ${g.expires_at}`,
        env: g.env,
        service: g.service,
        owner: g.principal,
        due: g.expires_at.slice(0, 10),
        risk: expired ? 'high' : g.role === 'admin' && isProduction(deps, g.env) ? 'medium' : 'low',
        detail: `grant ${g.id} requested by ${g.requested_by}${g.approved_by.length ? `, approved by ${g.approved_by.join(', ')}` : ''}; the reaper revokes it at expiry`,
        fix: { tool: 'revoke_access', arguments: { env: g.env, grant_id: g.id } },
      });
    }
    for (const b of bindings) {
      if (isDay2Binding(b) || !PRIVILEGED.has(b.role.name) || !isProduction(deps, b.env)) continue;
      items.push({
        id: `access:${b.env}:binding:${b.namespace}/${b.name}`,
        category: 'access',
        title: `Standing ${b.role.name} access not made by day2: ${b.namespace}/${b.name}`,
        env: b.env,
        due: isoDate(new Date(now.getTime() + 7 * 86_400_000)),
        risk: b.role.name === 'edit' ? 'medium' : 'high',
        detail: `${b.role.kind} ${b.role.name} for ${b.subjects.map((s) => `${s.kind} ${s.name}`).join(', ')} since ${b.createdAt?.slice(0, 10) ?? '?'}; replace with time-bound grants`,
        fix: { tool: 'revoke_access', arguments: { env: b.env, namespace: b.namespace, binding: b.name } },
      });
    }
    return { items, gaps };
  },
};
