import { z } from 'zod';
import type { OciManifest, RegistryClient } from '../../providers/registry/index.js';

/** Largest image config or vulnerability report read from the registry. */
const MAX_DOC_BYTES = 4 * 1024 * 1024;
/** Vulnerability ids listed per report (the counts cover them all). */
const MAX_IDS = 20;

/** Report formats day2 reads from a referrer, by artifactType or layer media type. */
const SARIF = /sarif/i;
const CYCLONEDX = /cyclonedx|vex/i;

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
type Severity = (typeof SEVERITIES)[number];

export const advisoryShape = z.object({
  annotations: z
    .record(z.string(), z.string())
    .describe('org.opencontainers.image.* annotations of the manifest (created, revision, source, ...)'),
  labels: z
    .record(z.string(), z.string())
    .describe('config labels: org.opencontainers.image.* and vendor security labels'),
  report: z
    .object({
      format: z.enum(['sarif', 'cyclonedx']),
      artifact_type: z.string(),
      digest: z.string(),
      found_via: z
        .enum(['referrers_api', 'referrers_tag'])
        .describe('the Referrers API, or the sha256-<hex> referrers tag where the registry lacks it'),
      counts: z.object(
        Object.fromEntries(SEVERITIES.map((s) => [s, z.number()])) as Record<Severity, z.ZodNumber>,
      ),
      not_affected: z.number().describe('listed, but marked not affected / resolved (VEX)'),
      ids: z
        .array(z.string())
        .describe(`affecting vulnerability ids, most severe first (at most ${MAX_IDS})`),
    })
    .optional()
    .describe('the vulnerability report attached to the image as an OCI referrer'),
  fixed: z
    .array(z.string())
    .optional()
    .describe("vulnerabilities the running version's report lists that this one no longer does"),
  introduced: z.array(z.string()).optional().describe("vulnerabilities this version's report adds"),
  unread: z.string().optional().describe('what could not be read, and why'),
});
export type Advisory = z.infer<typeof advisoryShape>;

interface Finding {
  id: string;
  severity: Severity;
  affected: boolean;
}

/**
 * What the registry says about one image: the manifest's OCI annotations, the config's OCI and
 * security labels, and the first vulnerability report (SARIF, CycloneDX / VEX) attached to it as a
 * referrer, counted by severity. With `running`'s advisory, which vulnerabilities it fixes.
 */
export async function readAdvisory(
  client: RegistryClient,
  repository: string,
  reference: string,
): Promise<{ advisory: Advisory; findings: Finding[] }> {
  const manifest = await client.manifest(repository, reference);
  if (!manifest)
    return { advisory: { annotations: {}, labels: {}, unread: `no manifest ${reference}` }, findings: [] };
  const image = await platformManifest(client, repository, manifest);
  const annotations = ociOnly({ ...manifest.annotations, ...image.annotations });
  let labels: Record<string, string> = {};
  if (image.config) {
    const config = JSON.parse(
      (await client.blob(repository, image.config.digest, MAX_DOC_BYTES)).toString('utf8'),
    ) as { config?: { Labels?: Record<string, string> | null } };
    labels = Object.fromEntries(
      Object.entries(config.config?.Labels ?? {}).filter(
        ([k]) => k.startsWith('org.opencontainers.image.') || /secur|vuln|cve|scan/i.test(k),
      ),
    );
  }
  const { referrers, via } = await client.referrers(repository, manifest.digest);
  const found = referrers.find(
    (r) => SARIF.test(r.artifactType ?? '') || CYCLONEDX.test(r.artifactType ?? ''),
  );
  if (!found) return { advisory: { annotations, labels }, findings: [] };
  const artifact = await client.manifest(repository, found.digest);
  const layer = artifact?.layers[0];
  if (!layer)
    return {
      advisory: { annotations, labels, unread: `referrer ${found.digest.slice(0, 19)} has no document` },
      findings: [],
    };
  const format = SARIF.test(found.artifactType ?? layer.mediaType) ? 'sarif' : 'cyclonedx';
  const doc = JSON.parse(
    (await client.blob(repository, layer.digest, MAX_DOC_BYTES)).toString('utf8'),
  ) as unknown;
  const findings = format === 'sarif' ? fromSarif(doc) : fromCycloneDx(doc);
  const affecting = findings.filter((f) => f.affected);
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of affecting) counts[f.severity]++;
  return {
    advisory: {
      annotations,
      labels,
      report: {
        format,
        artifact_type: found.artifactType ?? layer.mediaType,
        digest: found.digest,
        found_via: via,
        counts,
        not_affected: findings.length - affecting.length,
        ids: affecting
          .sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity))
          .map((f) => f.id)
          .slice(0, MAX_IDS),
      },
    },
    findings,
  };
}

/** Fills `fixed` / `introduced` of a candidate's advisory against the running version's findings. */
export function compareFindings(candidate: Advisory, mine: Finding[], running: Finding[] | undefined): void {
  if (!candidate.report || !running) return;
  const now = new Set(mine.filter((f) => f.affected).map((f) => f.id));
  const before = new Set(running.filter((f) => f.affected).map((f) => f.id));
  candidate.fixed = [...before].filter((id) => !now.has(id)).slice(0, MAX_IDS);
  candidate.introduced = [...now].filter((id) => !before.has(id)).slice(0, MAX_IDS);
}

/** One line for people: "3 high, 1 medium (CycloneDX via referrers_tag); fixes CVE-…". */
export function advisoryLine(a: Advisory): string {
  const parts: string[] = [];
  const oci = (k: string) =>
    a.annotations[`org.opencontainers.image.${k}`] ?? a.labels[`org.opencontainers.image.${k}`];
  if (oci('created')) parts.push(`built ${oci('created')!.slice(0, 10)}`);
  if (oci('revision')) parts.push(`rev ${oci('revision')!.slice(0, 12)}`);
  const security = Object.entries(a.labels).filter(([k]) => !k.startsWith('org.opencontainers.'));
  if (security.length) parts.push(security.map(([k, v]) => `${k}=${v.slice(0, 60)}`).join(', '));
  if (a.report) {
    const c = a.report.counts;
    const counted = SEVERITIES.filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
    parts.push(
      `${counted.length ? counted.join(', ') : 'no affecting'} vulnerabilities (${a.report.format}${a.report.not_affected ? `, ${a.report.not_affected} not affected` : ''})`,
    );
    if (a.fixed?.length)
      parts.push(`fixes ${a.fixed.slice(0, 5).join(', ')}${a.fixed.length > 5 ? ' …' : ''}`);
    if (a.introduced?.length) parts.push(`adds ${a.introduced.slice(0, 5).join(', ')}`);
  } else parts.push('no vulnerability report attached');
  if (a.unread) parts.push(`not read: ${a.unread}`);
  return parts.join('; ');
}

/** For an index, the linux/amd64 (else first) image manifest; an image manifest as it is. */
async function platformManifest(
  client: RegistryClient,
  repository: string,
  m: OciManifest,
): Promise<OciManifest> {
  if (m.manifests.length === 0) return m;
  const pick =
    m.manifests.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64') ??
    m.manifests[0]!;
  return (await client.manifest(repository, pick.digest)) ?? m;
}

function ociOnly(a: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(a).filter(([k]) => k.startsWith('org.opencontainers.image.')));
}

/** SARIF 2.1.0 as scanners write it: results by ruleId; severity from the rule's security-severity (CVSS) or the level. */
function fromSarif(doc: unknown): Finding[] {
  const runs = (doc as { runs?: unknown[] }).runs ?? [];
  const out = new Map<string, Finding>();
  for (const run of runs as {
    tool?: { driver?: { rules?: { id?: string; properties?: Record<string, unknown> }[] } };
    results?: { ruleId?: string; level?: string; properties?: Record<string, unknown> }[];
  }[]) {
    const rules = new Map((run.tool?.driver?.rules ?? []).map((r) => [r.id, r]));
    for (const r of run.results ?? []) {
      if (!r.ruleId) continue;
      const score = Number(
        r.properties?.['security-severity'] ?? rules.get(r.ruleId)?.properties?.['security-severity'],
      );
      const severity: Severity = Number.isFinite(score)
        ? score >= 9
          ? 'critical'
          : score >= 7
            ? 'high'
            : score >= 4
              ? 'medium'
              : score > 0
                ? 'low'
                : 'unknown'
        : r.level === 'error'
          ? 'high'
          : r.level === 'warning'
            ? 'medium'
            : r.level === 'note'
              ? 'low'
              : 'unknown';
      const before = out.get(r.ruleId);
      if (!before || SEVERITIES.indexOf(severity) < SEVERITIES.indexOf(before.severity))
        out.set(r.ruleId, { id: r.ruleId, severity, affected: true });
    }
  }
  return [...out.values()];
}

/** CycloneDX 1.4+ vulnerabilities; a VEX analysis of not_affected, false_positive or resolved does not affect. */
function fromCycloneDx(doc: unknown): Finding[] {
  const vulns = (doc as { vulnerabilities?: unknown[] }).vulnerabilities ?? [];
  return (vulns as { id?: string; ratings?: { severity?: string }[]; analysis?: { state?: string } }[])
    .filter((v) => v.id)
    .map((v) => {
      const rated = (v.ratings ?? [])
        .map((r) => (r.severity ?? '').toLowerCase())
        .filter((s): s is Severity => (SEVERITIES as readonly string[]).includes(s))
        .sort((a, b) => SEVERITIES.indexOf(a) - SEVERITIES.indexOf(b));
      return {
        id: v.id!,
        severity: rated[0] ?? 'unknown',
        affected: !['not_affected', 'false_positive', 'resolved'].includes(v.analysis?.state ?? ''),
      };
    });
}
