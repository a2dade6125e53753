import { z } from 'zod';
import type { Deps } from '../../contract/deps.js';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, envField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnvWith } from '../context/resolve-service.js';
import { parseImageRef } from '../../providers/registry/index.js';
import { gapReason, type Gap } from '../context/gather.js';
import {
  advisoryLine,
  advisoryShape,
  compareFindings,
  readAdvisory,
  type Advisory,
} from './image-advisory.js';
import { dedupeGaps, scanImages, type ImageLine } from './image-scan.js';
import { versionWhereabouts, whereaboutsLine, whereaboutsShape } from './version-whereabouts.js';

const change = z.enum(['patch', 'minor', 'major']);

const line = z.object({
  service: z.string(),
  namespace: z.string(),
  deployment: z.string(),
  container: z.string(),
  image: z.string(),
  current: z.string().describe('current tag'),
  newer: z
    .array(
      z.object({
        tag: z.string(),
        digest: z.string().optional(),
        change: change.describe('semver distance from the running tag'),
        ...whereaboutsShape,
      }),
    )
    .describe('newer tags in the registry, newest first'),
  proposed: z
    .object({
      tag: z.string(),
      change,
      digest: z.string().optional(),
      advisory: advisoryShape.optional(),
    })
    .optional()
    .describe(
      'the version proposed: the newest patch of the running minor unless `propose` widens it; never a held one',
    ),
  not_proposed: z.string().optional().describe('why nothing is proposed although newer tags exist'),
  current_advisory: advisoryShape.optional().describe('what the registry says about the running version'),
  runtime: z
    .object({
      name: z.string(),
      line: z.string(),
      eol: z.string(),
      status: z.enum(['end_of_life', 'eol_within_6_months', 'supported']),
    })
    .optional(),
  apply: z
    .object({ tool: z.literal('update_image'), arguments: z.record(z.string(), z.unknown()) })
    .optional()
    .describe('the update_image call that moves this container to the proposed tag'),
  held: z
    .array(z.string())
    .optional()
    .describe(
      'newer tags not offered: a hold (a rollback or an incident, in any environment) marks them bad',
    ),
});

export const patchReport = defineTool({
  name: 'patch_report',
  title: 'Patch report',
  description:
    'Newer tags per image (patch/minor/major, where each runs), the proposed patch with its advisories, runtime end-of-life dates.',
  toolset: 'deploys',
  effect: 'read',
  risk: 'low',
  input: {
    env: envField,
    service: z.string().min(1).optional(),
    include_prereleases: z.boolean().optional(),
    allow_major: z.boolean().optional().describe('default false: same major only'),
    only_outdated: z.boolean().optional().meta({ default: true }),
    propose: change
      .optional()
      .describe(
        'how far the proposal may move: patch (default: newest patch of the running minor), minor, major',
      ),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    env: z.string(),
    images: z.array(line),
    total: z.number(),
    up_to_date: z.number(),
    next_cursor: z.string().optional(),
    gaps: z.array(gapShape).describe('the first 10'),
    gaps_total: z.number(),
  },
  async run(args, ctx) {
    const env = resolveEnvWith(ctx.deps, args.env, 'kubernetes');
    const svc = args.service ? ctx.deps.catalog.resolver.service(args.service, { env }) : undefined;
    const scan = await scanImages(ctx.deps, env, {
      service: svc?.id,
      allowMajor: args.allow_major,
      includePrereleases: args.include_prereleases,
      onlyOutdated: args.only_outdated,
      propose: args.propose,
    });
    const page = pageOf(scan.lines, args);
    const gaps: Gap[] = [...scan.gaps];
    const images = await Promise.all(page.items.map((l) => enrich(ctx.deps, env, l, gaps)));
    const allGaps = dedupeGaps(gaps);
    return {
      env,
      images,
      total: page.total,
      up_to_date: scan.upToDate,
      next_cursor: page.next_cursor,
      gaps: allGaps.slice(0, 10),
      gaps_total: allGaps.length,
    };
  },
  render: (o, args) =>
    answerText({
      head: [`${o.env}: ${o.total} image(s) with updates or runtime end-of-life, ${o.up_to_date} up to date`],
      rows: o.images.map(
        (i) =>
          `${i.service}/${i.container} ${i.current}${
            i.newer.length
              ? ` → ${i.newer
                  .map((n) => n.tag)
                  .slice(0, 4)
                  .join(', ')}`
              : ''
          }${i.runtime && i.runtime.status !== 'supported' ? ` (${i.runtime.name} ${i.runtime.line} EOL ${i.runtime.eol})` : ''}${i.held ? `; not offered: ${i.held.join('; ')}` : ''}`,
      ),
      tail: [
        ...o.images.flatMap((i) => proposalLines(i)),
        pageLine('images', { shown: o.images.length, ...o }, { tool: 'patch_report', args }),
        gapsLine(o.gaps),
        o.gaps_total > o.gaps.length &&
          `(${o.gaps_total - o.gaps.length} more image(s) not read, left out here)`,
      ],
    }),
});

type Line = z.infer<typeof line>;

/**
 * A page line with what a choice needs: where each newer tag runs, ran or never ran, and the
 * registry's advisory data on the running and the proposed version. Reads only for the page.
 */
async function enrich(deps: Deps, env: string, l: ImageLine, gaps: Gap[]): Promise<Line> {
  const out: Line = { ...l };
  if (l.newer.length === 0) return out;
  try {
    const where = await versionWhereabouts(
      deps,
      l.service,
      l.image,
      l.newer.map((n) => n.tag),
    );
    gaps.push(...where.gaps);
    out.newer = l.newer.map((n) => ({ ...n, ...where.byTag.get(n.tag) }));
  } catch (err) {
    gaps.push({ backend: 'kubernetes', env, reason: gapReason(err) });
  }
  const reg = deps.backends.has(env, 'registry') ? deps.backends.registry(env) : undefined;
  const ref = parseImageRef(l.image);
  if (!reg?.owns(ref) || !l.proposed) return out;
  const read = async (reference: string) => {
    try {
      return await readAdvisory(reg.client, ref.repository, reference);
    } catch (err) {
      const a: Advisory = { annotations: {}, labels: {}, unread: gapReason(err) };
      return { advisory: a, findings: undefined };
    }
  };
  const running = async () => {
    // The digest is what runs; where the registry no longer holds it, the tag is the next best.
    const byDigest = ref.digest ? await read(ref.digest) : undefined;
    return byDigest && !byDigest.advisory.unread?.startsWith('no manifest')
      ? byDigest
      : ref.tag
        ? read(ref.tag)
        : (byDigest ?? read(''));
  };
  const [current, proposed] = await Promise.all([running(), read(l.proposed.digest ?? l.proposed.tag)]);
  compareFindings(proposed.advisory, proposed.findings ?? [], current.findings);
  out.current_advisory = current.advisory;
  out.proposed = { ...l.proposed, advisory: proposed.advisory };
  return out;
}

/** The proposal of one line in words: the version, its distance, where it runs, its advisory. */
function proposalLines(i: Line): string[] {
  const who = `${i.service}/${i.container}`;
  if (!i.proposed) return i.not_proposed ? [`${who}: nothing proposed: ${i.not_proposed}`] : [];
  const n = i.newer.find((x) => x.tag === i.proposed!.tag);
  const where = n
    ? whereaboutsLine({
        runs_in: n.runs_in ?? [],
        ran_in: n.ran_in ?? [],
        never_ran_in: n.never_ran_in ?? [],
      })
    : '';
  const elsewhere = i.newer
    .filter((x) => x.tag !== i.proposed!.tag && (x.runs_in?.length || x.ran_in?.length))
    .slice(0, 3)
    .map(
      (x) =>
        `  ${x.tag} (${x.change}): ${whereaboutsLine({ runs_in: x.runs_in ?? [], ran_in: x.ran_in ?? [], never_ran_in: x.never_ran_in ?? [] })}`,
    );
  return [
    `${who}: proposed ${i.current} → ${i.proposed.tag} (${i.proposed.change})${where ? `; ${where}` : ''}`,
    ...(i.proposed.advisory ? [`  advisory ${i.proposed.tag}: ${advisoryLine(i.proposed.advisory)}`] : []),
    ...(i.current_advisory ? [`  advisory ${i.current} (running): ${advisoryLine(i.current_advisory)}`] : []),
    ...elsewhere,
    ...(i.apply ? [`  apply: update_image ${JSON.stringify(i.apply.arguments)}`] : []),
  ];
}
