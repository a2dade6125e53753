/** A version tag read as semver: `v1.2.3`, `1.2`, `1.2.3-rc.1`, `18.20.1-alpine`. */
export interface TagVersion {
  tag: string;
  major: number;
  minor: number;
  patch: number;
  /** Prerelease identifiers (`rc.1` → ['rc', '1']); empty for a release. */
  prerelease: string[];
  /** A build variant that is not a prerelease (`alpine`, `slim-bookworm`); tags compare only within one. */
  variant: string;
}

const TAG = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
const PRERELEASE = /^(alpha|beta|rc|dev|pre|preview|snapshot|nightly|canary|next|m\d|\d)/i;

/** Parses a tag; undefined for tags that are not versions (`latest`, `main`, a commit hash). */
export function parseTag(tag: string): TagVersion | undefined {
  const m = TAG.exec(tag);
  if (!m) return undefined;
  const suffix = m[4] ?? '';
  const isPre = suffix !== '' && PRERELEASE.test(suffix);
  return {
    tag,
    major: Number(m[1]),
    minor: Number(m[2] ?? 0),
    patch: Number(m[3] ?? 0),
    prerelease: isPre ? suffix.split('.') : [],
    variant: isPre ? '' : suffix,
  };
}

/** Semver precedence (variants ignored): negative when a < b. */
export function compareVersions(a: TagVersion, b: TagVersion): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.prerelease.length === 0 || b.prerelease.length === 0)
    return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : undefined;
    const ny = /^\d+$/.test(y) ? Number(y) : undefined;
    if (nx !== undefined && ny !== undefined) {
      if (nx !== ny) return nx - ny;
    } else if (nx !== undefined) return -1;
    else if (ny !== undefined) return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export interface NewerTagOptions {
  /** Include other major versions (default false: same major only). */
  allowMajor?: boolean;
  /** Include prereleases (default false). */
  includePrereleases?: boolean;
}

/**
 * Tags newer than `current`, newest first: same variant, same major unless allowed, releases only
 * unless asked. Undefined when `current` is not a version tag.
 */
export function newerTags(
  current: string,
  tags: readonly string[],
  opts: NewerTagOptions = {},
): TagVersion[] | undefined {
  const cur = parseTag(current);
  if (!cur) return undefined;
  return tags
    .map(parseTag)
    .filter((t): t is TagVersion => t !== undefined)
    .filter(
      (t) =>
        t.variant === cur.variant &&
        (opts.allowMajor || t.major === cur.major) &&
        (opts.includePrereleases || t.prerelease.length === 0) &&
        compareVersions(t, cur) > 0,
    )
    .sort((a, b) => compareVersions(b, a));
}
