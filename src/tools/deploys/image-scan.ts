import type { Deps } from '../../contract/deps.js';
import { gapReason, type Gap } from '../context/gather.js';
import { serviceOf } from '../context/deployments.js';
import {
  formatImageRef,
  newerTags,
  parseImageRef,
  parseTag,
  type TagVersion,
} from '../../providers/registry/index.js';
import { runtimeStatus, type RuntimeStatus } from './runtime-eol.js';
import { activeHolds, heldWhy, holdOn } from './holds.js';

/** One container of one Deployment, against the registry and the runtime end-of-life table. */
export interface ImageLine {
  service: string;
  namespace: string;
  deployment: string;
  container: string;
  image: string;
  /** Current tag (or digest when the image is pinned without a tag). */
  current: string;
  /** Newer tags in the registry, newest first; the first few carry their manifest digest. */
  newer: { tag: string; digest?: string; change: VersionChange }[];
  /**
   * The version proposed by default: the newest patch of the running minor (or, as asked, the
   * newest of the same major or any), never one a hold marks bad in any environment.
   */
  proposed?: { tag: string; change: VersionChange; digest?: string };
  /** Why nothing is proposed although newer tags exist (no patch of the running minor, say). */
  not_proposed?: string;
  runtime?: { name: string; line: string; eol: string; status: RuntimeStatus['status'] };
  /** The update_image call that moves this container to the proposed tag. */
  apply?: { tool: 'update_image'; arguments: Record<string, unknown> };
  /** Newer tags left out because a hold marks them bad in this environment, and why. */
  held?: string[];
}

export interface ImageScanOptions {
  /** Only this service's Deployments (a catalog id). */
  service?: string;
  allowMajor?: boolean;
  includePrereleases?: boolean;
  /** Leave out containers with no newer tag and a supported runtime (default true). */
  onlyOutdated?: boolean;
  /** How many of each image's newest tags get their digest looked up (default 3). */
  digests?: number;
  /** How far a proposal may move: within the running minor (default), the major, or any. */
  propose?: VersionChange;
}

/** How far a version moves from the running one, by semver: 2.7.3 → 2.7.5 patch, → 2.8.0 minor. */
export type VersionChange = 'patch' | 'minor' | 'major';

/** The change from `from` to `to` (to newer than from). */
export function versionChange(from: TagVersion, to: TagVersion): VersionChange {
  return to.major !== from.major ? 'major' : to.minor !== from.minor ? 'minor' : 'patch';
}

const REACH: Record<VersionChange, number> = { patch: 0, minor: 1, major: 2 };

export interface ImageScan {
  lines: ImageLine[];
  upToDate: number;
  gaps: Gap[];
}

const NEWER_PER_IMAGE = 10;

/**
 * What patch_report and the backlog both need: every deployed container of `env` with the newer
 * tags its registry holds (one tags list per repository, a few requests at a time), runtime
 * end-of-life status, and the update_image call to the newest tag. End-of-life lines come first.
 */
export async function scanImages(deps: Deps, env: string, opts: ImageScanOptions = {}): Promise<ImageScan> {
  const k8s = deps.backends.kubernetes(env);
  const reg = deps.backends.has(env, 'registry') ? deps.backends.registry(env) : undefined;
  const gaps: Gap[] = [];
  const deployments = (await k8s.listDeployments()).filter(
    (d) => !opts.service || serviceOf(deps, env, d) === opts.service,
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
    gaps.push({ backend: 'registry', env, reason: `no registry configured (environments.${env}.registry)` });

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
  // A version held anywhere (rolled back, or named by an incident) is bad here too: staging is
  // not where a version prod rolled back should be tried again by proposal.
  const holds = await activeHolds(deps);
  const lines: ImageLine[] = [];
  let upToDate = 0;
  const digestJobs: (() => Promise<void>)[] = [];
  for (const c of containers) {
    const available = tags.get(c.ref.repository);
    const candidates =
      available && c.ref.tag
        ? (newerTags(c.ref.tag, available, {
            allowMajor: opts.allowMajor,
            includePrereleases: opts.includePrereleases,
          }) ?? [])
        : [];
    // A version rolled back here (or named by an incident) is never offered again.
    const held: string[] = [];
    const newer = candidates.filter((t) => {
      const h = holdOn(holds, formatImageRef({ ...c.ref, tag: t.tag, digest: undefined }));
      if (h) held.push(heldWhy(h));
      return !h;
    });
    const rt = runtimeStatus(c.ref.repository, c.ref.tag, now, deps.config.runtimes_eol);
    const runtime = rt ? { name: rt.runtime, line: rt.line, eol: rt.eol, status: rt.status } : undefined;
    if (newer.length === 0 && (!runtime || runtime.status === 'supported')) {
      upToDate++;
      // A container whose only newer tags are held stays listed: the reader learns why nothing
      // is offered, instead of seeing it as up to date.
      if (opts.onlyOutdated !== false && held.length === 0) continue;
    }
    const cur = c.ref.tag ? parseTag(c.ref.tag) : undefined;
    const reach = REACH[opts.propose ?? 'patch'];
    const best = cur ? newer.find((t) => REACH[versionChange(cur, t)] <= reach) : undefined;
    const line: ImageLine = {
      service: c.service,
      namespace: c.d.namespace,
      deployment: c.d.name,
      container: c.container,
      image: c.image,
      current: c.ref.tag ?? c.ref.digest ?? '',
      newer: newer.slice(0, NEWER_PER_IMAGE).map((t) => ({ tag: t.tag, change: versionChange(cur!, t) })),
      ...(best && cur ? { proposed: { tag: best.tag, change: versionChange(cur, best) } } : {}),
      ...(!best && cur && newer.length
        ? {
            not_proposed: `no newer ${opts.propose === 'minor' ? `release of ${cur.major}.x` : `patch of ${cur.major}.${cur.minor}`}; newest is ${newer[0]!.tag} (${versionChange(cur, newer[0]!)}): call again with propose: "${versionChange(cur, newer[0]!)}" to have it proposed`,
          }
        : {}),
      runtime,
      ...(held.length ? { held } : {}),
    };
    const proposed = line.proposed;
    if (proposed && !line.newer.slice(0, opts.digests ?? 3).some((n) => n.tag === proposed.tag))
      digestJobs.push(async () => {
        try {
          proposed.digest = await reg!.client.manifestDigest(c.ref.repository, proposed.tag);
        } catch (err) {
          gaps.push({ backend: 'registry', env, reason: gapReason(err) });
        }
      });
    for (const n of line.newer.slice(0, opts.digests ?? 3)) {
      digestJobs.push(async () => {
        try {
          n.digest = await reg!.client.manifestDigest(c.ref.repository, n.tag);
        } catch (err) {
          gaps.push({ backend: 'registry', env, reason: gapReason(err) });
        }
      });
    }
    lines.push(line);
  }
  await eachLimited(digestJobs, 8, (job) => job());
  for (const l of lines) {
    const best = l.proposed;
    if (!best) continue;
    best.digest ??= l.newer.find((n) => n.tag === best.tag)?.digest;
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
      eolRank(a) - eolRank(b) || a.service.localeCompare(b.service) || a.container.localeCompare(b.container),
  );
  return { lines, upToDate, gaps: dedupeGaps(gaps) };
}

function eolRank(l: { runtime?: { status: string } }): number {
  return l.runtime?.status === 'end_of_life' ? 0 : l.runtime?.status === 'eol_within_6_months' ? 1 : 2;
}

/** Gaps with the same reason once. */
export function dedupeGaps(gaps: Gap[]): Gap[] {
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
