import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, envField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnvWith } from '../context/resolve-service.js';
import { scanImages } from './image-scan.js';

const line = z.object({
  service: z.string(),
  namespace: z.string(),
  deployment: z.string(),
  container: z.string(),
  image: z.string(),
  current: z.string().describe('current tag'),
  newer: z
    .array(z.object({ tag: z.string(), digest: z.string().optional() }))
    .describe('newer tags in the registry, newest first'),
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
    .describe('the update_image call that moves this container to the newest tag'),
  held: z.array(z.string()).optional().describe('newer tags not offered: a hold marks them bad'),
});

export const patchReport = defineTool({
  name: 'patch_report',
  title: 'Patch report',
  description: 'Newer registry tags for each deployed image, and runtime end-of-life dates.',
  toolset: 'deploys',
  effect: 'read',
  risk: 'low',
  input: {
    env: envField,
    service: z.string().min(1).optional(),
    include_prereleases: z.boolean().optional(),
    allow_major: z.boolean().optional().describe('default false: same major only'),
    only_outdated: z.boolean().optional().meta({ default: true }),
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
    });
    const page = pageOf(scan.lines, args);
    return {
      env,
      images: page.items,
      total: page.total,
      up_to_date: scan.upToDate,
      next_cursor: page.next_cursor,
      gaps: scan.gaps.slice(0, 10),
      gaps_total: scan.gaps.length,
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
        pageLine('images', { shown: o.images.length, ...o }, { tool: 'patch_report', args }),
        gapsLine(o.gaps),
        o.gaps_total > o.gaps.length &&
          `(${o.gaps_total - o.gaps.length} more image(s) not read, left out here)`,
      ],
    }),
});
