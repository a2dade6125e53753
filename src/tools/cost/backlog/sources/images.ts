import { gapReason, type Gap } from '../../../context/gather.js';
import { scanImages, type ImageLine } from '../../../deploys/image-scan.js';
import {
  isoDate,
  isProduction,
  ownerOfService,
  type BacklogItem,
  type BacklogRisk,
  type BacklogSource,
} from '../item.js';

/**
 * Outdated images: containers with newer tags in their registry (same major), and runtimes past or
 * near end of life — patch_report's findings, each with the update_image call that applies the
 * newest tag. Environments without a registry are named once in the gaps.
 */
export const imagesSource: BacklogSource = {
  name: 'images',
  category: 'versions',
  async collect({ deps, envs, now, quarterEnd }) {
    // Only where both sides can be read: the images running (Kubernetes) and the tags (registry).
    const withRegistry = envs.filter(
      (e) => deps.backends.has(e, 'registry') && deps.backends.has(e, 'kubernetes'),
    );
    const without = envs.filter((e) => !withRegistry.includes(e));
    const gaps: Gap[] = without.length
      ? [
          {
            backend: 'registry',
            reason: `no registry configured for ${without.join(', ')} (environments.<env>.registry): outdated images not checked there`,
          },
        ]
      : [];
    const items: BacklogItem[] = [];
    await Promise.all(
      withRegistry.map(async (env) => {
        try {
          // Only the newest tag's digest is needed: it goes into the fix call.
          const scan = await scanImages(deps, env, { digests: 1 });
          gaps.push(...scan.gaps);
          for (const line of scan.lines)
            // Nothing to do where the only newer tags are held: the hold is the finding, and
            // get_service, detect_drift and the drift items carry it.
            if (line.newer.length || (line.runtime && line.runtime.status !== 'supported'))
              items.push(item(env, line, isProduction(deps, env)));
        } catch (err) {
          // One environment that cannot be read is its own gap; the others' findings stand.
          gaps.push({ backend: 'kubernetes', env, reason: gapReason(err) });
        }
      }),
    );
    return { items, gaps };

    function item(env: string, l: ImageLine, prod: boolean): BacklogItem {
      const eol = l.runtime && l.runtime.status !== 'supported' ? l.runtime : undefined;
      const pastEol = eol?.status === 'end_of_life';
      const risk: BacklogRisk = pastEol ? (prod ? 'high' : 'medium') : eol ? 'medium' : 'low';
      const newest = l.newer[0]?.tag;
      return {
        id: `versions:${env}:image:${l.namespace}/${l.deployment}/${l.container}`,
        category: 'versions',
        title: eol
          ? `${eol.name} ${eol.line} ${pastEol ? 'past' : 'near'} end of life: ${l.service}/${l.container} in ${env}`
          : `Outdated image: ${l.service}/${l.container} runs ${l.current}, ${newest} is out`,
        env,
        service: l.service,
        owner: ownerOfService(deps, l.service),
        due: eol ? (pastEol ? isoDate(now) : eol.eol) : quarterEnd,
        risk,
        detail: `${l.image}${l.newer.length ? `; newer: ${l.newer.map((n) => n.tag).join(', ')}` : ''}${eol ? `; ${eol.name} ${eol.line} end of life ${eol.eol}` : ''}${l.held ? `; not offered: ${l.held.join('; ')}` : ''}`,
        ...(l.apply
          ? { fix: { tool: l.apply.tool, arguments: l.apply.arguments } }
          : {
              action:
                !eol && l.not_proposed
                  ? `choose a version for ${l.service}/${l.container}: ${l.not_proposed}`
                  : `move ${l.service}/${l.container} to a supported ${eol?.name ?? 'runtime'} line`,
            }),
      };
    }
  },
};
