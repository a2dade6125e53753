import { z } from 'zod';
import { defineTool } from '../define-tool.js';
import { cursorField, envField, limitField, paginate } from '../fields.js';
import { gapReason, type Gap } from '../../context/gather.js';
import { serviceOf } from '../../context/deployments.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnv, resolveService } from '../context/resolve-service.js';
import { newerTags, parseImageRef, registryFor } from '../../providers/registry/index.js';
import { runtimeStatus } from './runtime-eol.js';

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
});

const DIGESTS_PER_IMAGE = 3;
const NEWER_PER_IMAGE = 10;

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
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const env = resolveEnv(deps, args.env);
    const svc = args.service ? resolveService(deps, args.service) : undefined;
    const k8s = deps.backends.kubernetes(env);
    const reg = registryFor(deps.config, env);
    const gaps: Gap[] = [];
    const deployments = (await k8s.listDeployments()).filter(
      (d) => !svc || serviceOf(deps, env, d) === svc.id,
    );
    const containers = deployments.flatMap((d) =>
      d.images.map((i) => ({
        d,
        service: serviceOf(deps, env, d),
        container: i.container,
        image: i.image,
        ref: parseImageRef(i.image),
      })),
    );
    if (!reg)
      gaps.push({
        backend: 'registry',
        env,
        reason: `no registry configured (environments.${env}.registry)`,
      });

    // One tags list per repository, a few at a time.
    const repos = [...new Set(containers.filter((c) => reg?.owns(c.ref)).map((c) => c.ref.repository))];
    const tags = new Map<string, string[]>();
    await eachLimited(repos, 8, async (repo) => {
      try {
        tags.set(repo, await reg!.client.listTags(repo));
      } catch (err) {
        gaps.push({ backend: 'registry', env, reason: gapReason(err) });
      }
    });
    const now = deps.clock.now();
    const lines: z.infer<typeof line>[] = [];
    let upToDate = 0;
    const digestJobs: (() => Promise<void>)[] = [];
    for (const c of containers) {
      const available = tags.get(c.ref.repository);
      const newer =
        available && c.ref.tag
          ? (newerTags(c.ref.tag, available, {
              allowMajor: args.allow_major,
              includePrereleases: args.include_prereleases,
            }) ?? [])
          : [];
      const rt = runtimeStatus(c.ref.repository, c.ref.tag, now, deps.config.runtimes_eol);
      const runtime = rt ? { name: rt.runtime, line: rt.line, eol: rt.eol, status: rt.status } : undefined;
      if (newer.length === 0 && (!runtime || runtime.status === 'supported')) {
        upToDate++;
        if (args.only_outdated !== false) continue;
      }
      const entry: z.infer<typeof line> = {
        service: c.service,
        namespace: c.d.namespace,
        deployment: c.d.name,
        container: c.container,
        image: c.image,
        current: c.ref.tag ?? c.ref.digest ?? '',
        newer: newer.slice(0, NEWER_PER_IMAGE).map((t) => ({ tag: t.tag })),
        runtime,
      };
      for (const n of entry.newer.slice(0, DIGESTS_PER_IMAGE)) {
        digestJobs.push(async () => {
          try {
            n.digest = await reg!.client.manifestDigest(c.ref.repository, n.tag);
          } catch (err) {
            gaps.push({ backend: 'registry', env, reason: gapReason(err) });
          }
        });
      }
      lines.push(entry);
    }
    await eachLimited(digestJobs, 8, (job) => job());
    for (const l of lines) {
      const best = l.newer[0];
      if (!best) continue;
      l.apply = {
        tool: 'update_image',
        arguments: {
          env,
          namespace: l.namespace,
          deployment: l.deployment,
          container: l.container,
          tag: best.tag,
          ...(best.digest ? { digest: best.digest } : {}),
        },
      };
    }
    lines.sort(
      (a, b) =>
        eolRank(a) - eolRank(b) ||
        a.service.localeCompare(b.service) ||
        a.container.localeCompare(b.container),
    );
    const page = paginate(lines, args.limit, args.cursor);
    return {
      env,
      images: page.items,
      total: page.total,
      up_to_date: upToDate,
      next_cursor: page.next_cursor,
      gaps: dedupe(gaps).slice(0, 10),
    };
  },
  render: (o) =>
    [
      `${o.env}: ${o.total} image(s) with updates or runtime end-of-life, ${o.up_to_date} up to date`,
      ...o.images.map(
        (i) =>
          `${i.service}/${i.container} ${i.current}${
            i.newer.length
              ? ` → ${i.newer
                  .map((n) => n.tag)
                  .slice(0, 4)
                  .join(', ')}`
              : ''
          }${i.runtime && i.runtime.status !== 'supported' ? ` (${i.runtime.name} ${i.runtime.line} EOL ${i.runtime.eol})` : ''}`,
      ),
      o.next_cursor ? `(${o.total} in all; pass next_cursor for more)` : '',
      o.gaps.length ? `Not read: ${o.gaps.map((g) => g.reason).join('; ')}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
});

function eolRank(l: { runtime?: { status: string } }): number {
  return l.runtime?.status === 'end_of_life' ? 0 : l.runtime?.status === 'eol_within_6_months' ? 1 : 2;
}

function dedupe(gaps: Gap[]): Gap[] {
  const seen = new Set<string>();
  return gaps.filter((g) => (seen.has(g.reason) ? false : (seen.add(g.reason), true)));
}

async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
