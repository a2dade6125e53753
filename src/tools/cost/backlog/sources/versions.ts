import { environmentConfig } from '../../../../config/lookup.js';
import { collectDeployments } from '../../../context/deployments.js';
import { compareVersions, parseTag } from '../../../../providers/registry/semver.js';
import { isProduction, ownerOfService, type BacklogItem, type BacklogSource } from '../item.js';
import { activeHolds, heldWhy, holdOn } from '../../../deploys/holds.js';

/**
 * Version skew: a production service behind the version a pre-production environment already
 * runs, with the promote_version call that closes the gap. Outdated images against the registry
 * are the images source's.
 */
export const versionsSource: BacklogSource = {
  name: 'versions',
  category: 'versions',
  async collect({ deps, envs, quarterEnd }) {
    // Every environment is read: prod's skew is measured against staging even when only prod is asked about.
    const { rows, gaps } = await collectDeployments(deps);
    const wanted = new Set(envs);
    const byService = new Map<string, typeof rows>();
    for (const r of rows) byService.set(r.service, [...(byService.get(r.service) ?? []), r]);
    const items: BacklogItem[] = [];
    const holds = await activeHolds(deps);
    for (const [service, list] of byService) {
      for (const prod of list.filter((r) => wanted.has(r.env) && isProduction(deps, r.env))) {
        const pv = parseTag(prod.version);
        if (!pv) continue;
        let ahead: (typeof rows)[number] | undefined;
        for (const r of list) {
          if (isProduction(deps, r.env) || environmentConfig(deps.config, r.env)?.tier !== 'staging')
            continue;
          const v = parseTag(r.version);
          if (
            v &&
            v.prerelease.length === 0 &&
            compareVersions(v, pv) > 0 &&
            (!ahead || compareVersions(v, parseTag(ahead.version)!) > 0)
          )
            ahead = r;
        }
        if (!ahead) continue;
        // The version ahead was rolled back in prod (or named by an incident): never offered again.
        const hold = holdOn(
          holds.filter((h) => h.env === prod.env),
          ahead.image,
        );
        items.push({
          id: `versions:${prod.env}:${service}`,
          category: 'versions',
          title: `Version skew: ${service} runs ${prod.version} in ${prod.env}, ${ahead.version} in ${ahead.env}`,
          env: prod.env,
          service,
          owner: ownerOfService(deps, service),
          due: quarterEnd,
          risk: 'low',
          detail: `${ahead.env} has run ${ahead.version} since ${ahead.last_rollout?.slice(0, 10) ?? '?'}; ${prod.env} ${prod.namespace}/${prod.deployment} is on ${prod.version}`,
          ...(hold
            ? {
                action: `no promotion offered: ${heldWhy(hold)}; ${ahead.env} still runs it, so fix forward there or roll it back`,
              }
            : {
                fix: { tool: 'promote_version', arguments: { service, from_env: ahead.env, env: prod.env } },
              }),
        });
      }
    }
    return { items, gaps };
  },
};
