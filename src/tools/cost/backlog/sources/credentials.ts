import { collectCredentials } from '../../../secrets/rotation/inventory.js';
import { isoDate, isProduction, type BacklogItem, type BacklogSource } from '../item.js';

/** Credentials overdue, or due before the end of this quarter (list_credentials' inventory). */
export const credentialsSource: BacklogSource = {
  name: 'credentials',
  category: 'credentials',
  async collect({ deps, envs, now, quarterEnd }) {
    const wanted = new Set(envs);
    const { rows, gaps } = await collectCredentials(deps);
    const items: BacklogItem[] = [];
    for (const r of rows) {
      if (!wanted.has(r.env)) continue;
      const due = (r.next_due ?? r.expires)?.slice(0, 10);
      const pressing =
        r.status === 'overdue' ||
        r.status === 'due_soon' ||
        r.status === 'pending_left_behind' ||
        (due !== undefined && due <= quarterEnd);
      if (!pressing) continue;
      const prod = isProduction(deps, r.env);
      const overdue = r.status === 'overdue' || (due !== undefined && due < isoDate(now));
      const service = r.used_by[0];
      items.push({
        id: `credentials:${r.env}:${r.name}`,
        category: 'credentials',
        title: `${overdue ? 'Overdue' : 'Due'} credential rotation: ${r.name}`,
        env: r.env,
        service,
        owner: r.owner,
        due,
        risk: overdue ? (prod ? 'high' : 'medium') : prod ? 'medium' : 'low',
        detail: `${r.kind}, status ${r.status}, last rotated ${r.last_rotated?.slice(0, 10) ?? 'never'}, used by ${r.used_by.join(', ') || 'nothing known'}`,
        ...(r.kind === 'aws-secret'
          ? { fix: { tool: 'rotate_credential', arguments: { env: r.env, secret: r.name } } }
          : {
              action: `renew the certificate ${r.name}${r.expires ? ` before ${r.expires.slice(0, 10)}` : ''}`,
            }),
      });
    }
    return { items, gaps };
  },
};
