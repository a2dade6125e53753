import { environmentConfig } from '../../../../config/lookup.js';
import { expectedBecause, heldDrift, scanScope, objectRef } from '../../../deploys/drift-scope.js';
import { activeHolds } from '../../../deploys/holds.js';
import { isoDate, isProduction, ownerOfService, type BacklogItem, type BacklogSource } from '../item.js';
import type { Gap } from '../../../context/gather.js';
import { gapReason } from '../../../context/gather.js';

/** Objects whose live state differs from the desired state (detect_drift), with the remediate_drift call. */
export const driftSource: BacklogSource = {
  name: 'drift',
  category: 'drift',
  async collect({ deps, envs, now }) {
    const items: BacklogItem[] = [];
    const gaps: Gap[] = [];
    const withDesired = envs.filter(
      (env) => environmentConfig(deps.config, env)?.desired_state && deps.backends.has(env, 'kubernetes'),
    );
    await Promise.all(
      withDesired.map(async (env) => {
        try {
          const scope = await scanScope(deps, { env });
          gaps.push(...scope.gaps);
          const prod = isProduction(deps, env);
          const holds = await activeHolds(deps, { env });
          for (const o of scope.objects) {
            if (o.status === 'in_sync') continue;
            // Drift a hold explains: remediating it would put a bad version back. The desired
            // state is what needs changing, and no tool call does that.
            const hold = heldDrift(o, holds);
            const labels =
              (o.manifest.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
            const service =
              (o.kind === 'Deployment' && o.namespace
                ? deps.catalog.resolver.workloadService(env, o.namespace, o.name, labels)?.id
                : undefined) ?? labels['app.kubernetes.io/name'];
            const ref = objectRef(o);
            items.push({
              id: `drift:${env}:${ref}`,
              category: 'drift',
              title:
                o.status === 'missing'
                  ? `Missing from the cluster: ${ref}`
                  : hold
                    ? `Desired state names a held version: ${ref}`
                    : `Drifted from desired state: ${ref}`,
              env,
              service,
              owner: ownerOfService(deps, service),
              due: isoDate(new Date(now.getTime() + (prod ? 1 : 7) * 86_400_000)),
              risk: prod ? 'high' : 'medium',
              detail:
                o.status === 'missing'
                  ? `declared in ${o.file} but not live`
                  : `${o.changes.length} field(s) differ: ${o.changes
                      .slice(0, 3)
                      .map((c) => `${c.op} ${c.path}`)
                      .join('; ')}${o.changes.length > 3 ? ' …' : ''}`,
              ...(hold
                ? { action: `${expectedBecause(hold)} (${o.file}); remediate_drift would put it back` }
                : { fix: { tool: 'remediate_drift', arguments: { env, objects: [ref] } } }),
            });
          }
        } catch (err) {
          gaps.push({ backend: 'drift', env, reason: gapReason(err) });
        }
      }),
    );
    return { items, gaps };
  },
};
