import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';
import { pushImage, pushReferrer, startTestRegistry, type RegistryProcess } from '../../fixtures/registry.js';

/**
 * Choosing a patch on the north fleet (envs live and qa; its billing-api runs 3.2.0 in live and
 * 3.3.0 in qa) against the real Distribution registry: the proposal is the newest patch of the
 * running minor, not the highest minor; each newer tag says where it runs (with that
 * environment's alerts) and where it never ran; a version an incident record marks bad in qa is
 * never proposed for live; and the registry's OCI annotations, labels and the vulnerability
 * reports attached as referrers (SARIF on the running version, CycloneDX VEX on the proposal)
 * are summarised, with the vulnerabilities the proposal fixes.
 */
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REPO = 'ledgers/billing-api';
const HOST = 'registry.northwind.test';

let h: SandboxHarness;
let agent: Client;
let registry: RegistryProcess;
const vias: string[] = [];

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
async function call(name: string, args: Record<string, unknown>): Promise<{ sc: Obj; text: string }> {
  const r = (await agent.callTool({ name, arguments: args })) as CallToolResult;
  expect(r.isError ?? false, text(r)).toBe(false);
  return { sc: r.structuredContent as Obj, text: text(r) };
}

const sarif = {
  version: '2.1.0',
  runs: [
    {
      tool: {
        driver: {
          name: 'scanner',
          rules: [
            { id: 'CVE-2026-1001', properties: { 'security-severity': '7.5' } },
            { id: 'CVE-2026-1002', properties: { 'security-severity': '9.8' } },
          ],
        },
      },
      results: [
        { ruleId: 'CVE-2026-1001', level: 'error' },
        { ruleId: 'CVE-2026-1002', level: 'error' },
      ],
    },
  ],
};
const vex = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  vulnerabilities: [
    { id: 'CVE-2026-1002', ratings: [{ severity: 'critical' }], analysis: { state: 'resolved' } },
    { id: 'CVE-2026-2001', ratings: [{ severity: 'medium' }] },
  ],
};

beforeAll(async () => {
  const started = await startTestRegistry({ [REPO]: ['3.1.4', '3.2.1', '3.3.0', '4.0.0'] });
  registry = started.registry;
  const running = await pushImage(registry.url, REPO, '3.2.0', {
    labels: { 'com.northwind.security.scan-status': 'findings' },
  });
  const proposal = await pushImage(registry.url, REPO, '3.2.2', {
    annotations: {
      'org.opencontainers.image.created': '2026-11-30T10:00:00Z',
      'org.opencontainers.image.revision': '4f2a9c1e7b3d',
      'org.opencontainers.image.source': 'https://git.northwind.test/ledgers/billing-api',
    },
    labels: { 'com.northwind.security.scan-status': 'passed' },
  });
  for (const [subject, doc] of [
    [
      running,
      { artifactType: 'application/sarif+json', mediaType: 'application/sarif+json', content: sarif },
    ],
    [
      proposal,
      {
        artifactType: 'application/vnd.cyclonedx+json',
        mediaType: 'application/vnd.cyclonedx+json',
        content: vex,
      },
    ],
  ] as const)
    vias.push(
      (
        await pushReferrer(registry.url, REPO, subject, {
          ...doc,
          content: Buffer.from(JSON.stringify(doc.content)),
        })
      ).via,
    );
  h = await startSandboxHarness({
    fleet: fileURLToPath(new URL('../../fixtures/fleets/north.yaml', import.meta.url)),
  });
  for (const env of ['live', 'qa']) h.sandbox.environments[env]!.registry = { url: registry.url, host: HOST };
  agent = await h.connect('agent-bot');
}, 120_000);

afterAll(async () => {
  await h?.close();
  await registry?.close();
});

/** Plan, approve as alice, execute. */
async function approved(name: string, args: Record<string, unknown>): Promise<Obj> {
  const first = await call(name, args);
  expect(first.sc.status, first.text).toBe('approval_required');
  await h.rt.approvals.approve(first.sc.approval_id as string, 'alice', { channel: 'cli' });
  const token = (await call('get_approval', { approval_id: first.sc.approval_id })).sc.approval_token;
  const done = await call(name, { ...args, approval_token: token });
  expect(done.sc.status, done.text).toBe('executed');
  return done.sc.result as Obj;
}

describe('patch_report on the north fleet', () => {
  it('classifies each newer tag and proposes the newest patch of the running minor, not the highest minor', async () => {
    const { sc, text: t } = await call('patch_report', { env: 'live', service: 'billing-api' });
    const line = (sc.images as Obj[]).find((l) => l.image.includes(REPO))!;
    expect(line.current).toBe('3.2.0');
    expect(line.newer.map((n: Obj) => [n.tag, n.change])).toEqual([
      ['3.3.0', 'minor'],
      ['3.2.2', 'patch'],
      ['3.2.1', 'patch'],
    ]);
    expect(line.proposed).toMatchObject({ tag: '3.2.2', change: 'patch' });
    expect(line.apply.arguments).toMatchObject({ env: 'live', tag: '3.2.2' });
    expect(line.apply.arguments.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(t).toContain('proposed 3.2.0 → 3.2.2 (patch)');

    // The minor the registry also has: asked for, it is proposed instead.
    const minor = await call('patch_report', { env: 'live', service: 'billing-api', propose: 'minor' });
    expect((minor.sc.images as Obj[])[0]!.proposed).toMatchObject({ tag: '3.3.0', change: 'minor' });
  });

  it('says where each candidate already runs, with the alerts there, and where it never ran', async () => {
    const { sc, text: t } = await call('patch_report', { env: 'live', service: 'billing-api' });
    const line = (sc.images as Obj[])[0]!;
    const byTag = new Map((line.newer as Obj[]).map((n) => [n.tag, n]));
    const qaAlerts = (await call('list_alerts', { env: 'qa', service: 'billing-api' })).sc.alerts as Obj[];
    expect(byTag.get('3.3.0')!.runs_in).toEqual([
      expect.objectContaining({ env: 'qa', alert_count: qaAlerts.length }),
    ]);
    expect(byTag.get('3.3.0')!.runs_in[0].since).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(byTag.get('3.3.0')!.never_ran_in).toEqual(['live']);
    expect(byTag.get('3.2.2')!.runs_in).toEqual([]);
    expect(byTag.get('3.2.2')!.never_ran_in).toEqual(['live', 'qa']);
    expect(t).toMatch(/3\.2\.2 \(patch\); never ran in live, qa/);
    expect(t).toMatch(
      / 3\.3\.0 \(minor\): runs in qa since \d{4}-\d\d-\d\dT[\d:]+Z \((no alerts there|\d+ alert\(s\) there: .+)\); never ran in live/,
    );
  });

  it('summarises OCI annotations, labels and the attached vulnerability reports, with what the proposal fixes', async () => {
    // Distribution 2.8 has no Referrers API: the reports were attached by the referrers tag schema.
    expect(vias).toEqual(['referrers_tag', 'referrers_tag']);
    const { sc, text: t } = await call('patch_report', { env: 'live', service: 'billing-api' });
    const line = (sc.images as Obj[])[0]!;
    expect(line.current_advisory.report).toMatchObject({
      format: 'sarif',
      found_via: 'referrers_tag',
      counts: { critical: 1, high: 1, medium: 0, low: 0, unknown: 0 },
      ids: ['CVE-2026-1002', 'CVE-2026-1001'],
    });
    expect(line.current_advisory.labels['com.northwind.security.scan-status']).toBe('findings');
    const advisory = line.proposed.advisory;
    expect(advisory.annotations).toMatchObject({
      'org.opencontainers.image.created': '2026-11-30T10:00:00Z',
      'org.opencontainers.image.revision': '4f2a9c1e7b3d',
    });
    expect(advisory.labels).toMatchObject({
      'org.opencontainers.image.version': '3.2.2',
      'com.northwind.security.scan-status': 'passed',
    });
    expect(advisory.report).toMatchObject({
      format: 'cyclonedx',
      artifact_type: 'application/vnd.cyclonedx+json',
      counts: { critical: 0, high: 0, medium: 1, low: 0, unknown: 0 },
      not_affected: 1,
      ids: ['CVE-2026-2001'],
    });
    expect(advisory.fixed.sort()).toEqual(['CVE-2026-1001', 'CVE-2026-1002']);
    expect(advisory.introduced).toEqual(['CVE-2026-2001']);
    expect(t).toContain('advisory 3.2.2: built 2026-11-30; rev 4f2a9c1e7b3d');
    expect(t).toContain('1 medium vulnerabilities (cyclonedx, 1 not affected)');
    expect(t).toMatch(/fixes CVE-2026-100[12], CVE-2026-100[12]/);
    expect(t).toContain(
      'advisory 3.2.0 (running): com.northwind.security.scan-status=findings; 1 critical, 1 high vulnerabilities (sarif)',
    );
  });

  it('never proposes a version the incident record marks bad, in any environment', async () => {
    const opened = await call('open_incident', {
      service: 'billing-api',
      env: 'qa',
      title: 'invoice totals wrong after 3.3.0',
    });
    const id = (opened.sc.incident as Obj).id as string;
    const resolved = await call('resolve_incident', {
      incident_id: id,
      resolution: 'rolled qa back by hand',
      root_cause: '3.3.0 rounds invoice totals twice',
      bad_version: '3.3.0',
    });
    expect(resolved.sc.hold).toMatchObject({ env: 'qa' });
    const { sc, text: t } = await call('patch_report', {
      env: 'live',
      service: 'billing-api',
      propose: 'minor',
    });
    const line = (sc.images as Obj[])[0]!;
    expect(line.newer.map((n: Obj) => n.tag)).toEqual(['3.2.2', '3.2.1']);
    expect(line.proposed.tag).toBe('3.2.2');
    expect(line.held).toEqual([expect.stringMatching(/^billing-api:3\.3\.0 is held in qa since incident /)]);
    expect(t).toContain('not offered: billing-api:3.3.0 is held in qa');
  });

  it('a version an environment moved past shows as ran there, from its rollout history', async () => {
    // qa (3.3.0 held since the incident above) tries 3.2.2, then settles on 3.2.1: 3.2.2 stays in
    // qa's ReplicaSet history only.
    expect(
      (await approved('update_image', { service: 'billing-api', env: 'qa', tag: '3.2.2' })).outcome,
    ).toBe('rolled_out');
    expect(
      (await approved('update_image', { service: 'billing-api', env: 'qa', tag: '3.2.1' })).outcome,
    ).toBe('rolled_out');
    const { sc, text: t } = await call('patch_report', { env: 'live', service: 'billing-api' });
    const n = ((sc.images as Obj[])[0]!.newer as Obj[]).find((x) => x.tag === '3.2.2')!;
    expect(n.runs_in).toEqual([]);
    expect(n.ran_in).toEqual([expect.objectContaining({ env: 'qa', revision: expect.any(Number) })]);
    expect(n.never_ran_in).toEqual(['live']);
    const runs = ((sc.images as Obj[])[0]!.newer as Obj[]).find((x) => x.tag === '3.2.1')!;
    expect(runs.runs_in).toEqual([expect.objectContaining({ env: 'qa' })]);
    expect(t).toMatch(/proposed 3\.2\.0 → 3\.2\.2 \(patch\); ran in qa \(revision \d+\); never ran in live/);
  });
});
