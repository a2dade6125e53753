import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';

/**
 * "Works on any fleet": the tools on test/fixtures/fleets/north.yaml, whose environments are
 * `live` (tier production) and `qa` (tier staging), whose namespaces are team-*, and whose
 * secrets are named <service>/<env>/<purpose>. Every answer is checked for the demo fleet's
 * words: an environment, secret or service named like the demo's would be a leak of an
 * assumption, since nothing in this fleet is.
 */

const NORTH = fileURLToPath(new URL('../fixtures/fleets/north.yaml', import.meta.url));
let h: SandboxHarness;
let client: Client;
type Json = Record<string, unknown>;
interface Result {
  sc: Json;
  text: string;
}

// Whole words only: `production` (a tier) and `day2.dev/...` (an annotation prefix) are fine.
const DEMO_WORDS = /\b(prod|staging|acme|checkout)\b/i;
const ENVS = ['live', 'qa'];

/** Every string in a value that names a demo-fleet word, with where it sits. */
function demoWords(value: unknown, path = '$'): string[] {
  if (typeof value === 'string') return DEMO_WORDS.test(value) ? [`${path}: ${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => demoWords(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [
      ...(DEMO_WORDS.test(k) ? [`${path}: key ${k}`] : []),
      ...demoWords(v, `${path}.${k}`),
    ]);
  return [];
}

async function call(name: string, args: Json): Promise<Result> {
  const res = await client.callTool({ name, arguments: args });
  const text = (res.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
  expect(res.isError ?? false, text).toBe(false);
  const sc = (res.structuredContent ?? {}) as Json;
  expect(demoWords(sc), `${name} structured output`).toEqual([]);
  expect(demoWords(text), `${name} text`).toEqual([]);
  return { sc, text };
}

/** The `env` of every object in a list, deduplicated. */
const envsOf = (list: unknown) => [...new Set((list as { env: string }[]).map((x) => x.env))].sort();

beforeAll(async () => {
  // PostgreSQL holds this fleet's own database (northwind_billing_live), so seeding it races with no other file.
  h = await startSandboxHarness({ fleet: NORTH, postgres: true });
  client = await h.connect();
}, 90_000);

afterAll(async () => {
  await h?.close();
});

describe('a fleet with live/qa environments and team-* namespaces', () => {
  it('the leak check finds demo words as words, in values and keys, and lets tiers and prefixes pass', () => {
    expect(demoWords({ env: 'prod' })).toEqual(['$.env: prod']);
    expect(demoWords({ versions: { staging: '1.0' } })).toEqual(['$.versions: key staging']);
    expect(demoWords(['rotate prod/payment-service/db', 'checkout:2.8.0'])).toHaveLength(2);
    expect(demoWords({ tier: 'production', label: 'day2.dev/owner', product: 'ledger' })).toEqual([]);
  });

  it('the sandbox configures exactly the fleet environments, with their tiers', () => {
    expect(Object.keys(h.rt.deps.config.environments).sort()).toEqual(ENVS);
    expect(h.rt.deps.config.environments.live?.tier).toBe('production');
    expect(h.rt.deps.config.environments.qa?.tier).toBe('staging');
  });

  it('get_service: owner, version, alerts from both sources, secret named by the fleet convention', async () => {
    const { sc } = await call('get_service', { service: 'billing-api', env: 'live' });
    expect(sc).toMatchObject({
      env: 'live',
      owner: 'billing-squad',
      contact: '#billing-pager',
      depends_on: ['resource:billing-db'],
      dependents: ['invoice-worker'],
      secrets: ['billing-api/live/db'],
      databases: ['billing'],
      gaps: [],
    });
    expect(sc.deployment).toMatchObject({ namespace: 'team-billing', version: '3.2.0', revision: 7 });
    const alerts = sc.alerts as { source: string; env: string }[];
    expect(alerts.map((a) => a.source).sort()).toEqual(['alertmanager', 'datadog']);
    expect(envsOf(alerts)).toEqual(['live']);
  });

  it('list_alerts, list_deployments and dependency_impact', async () => {
    const alerts = (await call('list_alerts', {})).sc;
    expect(
      (alerts.alerts as { env: string; name: string }[]).map((a) => `${a.env}:${a.name}`).sort(),
    ).toEqual(['live:InvoiceTotalsWrong', 'live:[billing-api] invoice total mismatches above 1% (live)']);
    expect(alerts.gaps).toEqual([]);

    const deps = (await call('list_deployments', {})).sc;
    expect(deps.total).toBe(4);
    expect(envsOf(deps.deployments)).toEqual(ENVS);
    expect(deps.skew).toEqual([{ service: 'billing-api', versions: { live: '3.2.0', qa: '3.3.0' } }]);

    const impact = (await call('dependency_impact', { service: 'billing-api', env: 'live' })).sc;
    expect(impact.nodes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'invoice-worker', direction: 'downstream', owner: 'billing-squad' }),
        expect.objectContaining({ id: 'resource:billing-db', direction: 'upstream' }),
      ]),
    );
  });

  it('triage_service: the recent rollout is the suspect; the rollback targets the previous revision in live', async () => {
    const { sc } = await call('triage_service', { service: 'billing-api', env: 'live' });
    const t = sc as {
      suspects: { cause: string; confidence: string; reason: string }[];
      next_actions: { tool: string; arguments: Json; needs_approval: boolean }[];
      gaps: unknown[];
    };
    expect(t.gaps).toEqual([]);
    expect(t.suspects[0]).toMatchObject({ cause: 'rollout:7', confidence: 'high' });
    expect(t.suspects[0]!.reason).toMatch(/billing-api:3\.1\.4 → billing-api:3\.2\.0.*InvoiceTotalsWrong/);
    const rollback = t.next_actions[0]!;
    expect(rollback).toMatchObject({ tool: 'rollback_deployment', needs_approval: true });
    expect(rollback.arguments).toMatchObject({ service: 'billing-api', env: 'live', revision: 6 });

    // The proposed call plans cleanly: production tier, so it waits for an approver.
    const planned = (await call('rollback_deployment', rollback.arguments)).sc as {
      status: string;
      plan: { image_diff: { from: string; to: string }[] };
    };
    expect(planned.status).toBe('approval_required');
    expect(planned.plan.image_diff[0]!.to).toContain('billing-api:3.1.4');
  });

  it('detect_drift reads the fleet desired state for live', async () => {
    const { sc } = await call('detect_drift', { env: 'live' });
    expect(sc).toMatchObject({ env: 'live', counts: expect.objectContaining({ compared: 2, drifted: 1 }) });
    expect(sc.objects).toEqual([
      expect.objectContaining({
        object: 'Deployment team-billing/invoice-worker',
        status: 'drifted',
        changes: [expect.objectContaining({ path: 'spec.replicas', desired: '2', live: '4' })],
      }),
    ]);
  });

  it("list_credentials and rotate_credential: the fleet's secret naming and rotation policy", async () => {
    const creds = (await call('list_credentials', { env: 'live' })).sc;
    expect(creds.credentials).toEqual([
      expect.objectContaining({
        env: 'live',
        name: 'billing-api/live/db',
        owner: 'billing-squad',
        status: 'overdue',
      }),
    ]);
    expect(h.rt.deps.config.rotation).toMatchObject({ max_age_days: 45, warn_days: 10 });

    const { sc, text } = await call('rotate_credential', {
      env: 'live',
      service: 'billing-api',
      reason: 'overdue under the 45-day policy',
    });
    expect(sc.status).toBe('approval_required');
    expect(sc.plan).toMatchObject({
      secret: 'billing-api/live/db',
      env: 'live',
      dbname: 'northwind_billing_live',
      role: 'northwind_billing_app',
    });
    expect(sc.policy).toMatchObject({ rule: 'production-credential-rotation' });
    expect(text).toContain('billing-api/live/db');
  });

  it('cost_report and day2_backlog: items in live and qa only', async () => {
    const cost = (await call('cost_report', {})).sc;
    expect(envsOf(cost.envs)).toEqual(ENVS);
    expect(cost.idle).toEqual([
      expect.objectContaining({ env: 'qa', namespace: 'team-billing', deployment: 'invoice-worker' }),
    ]);
    expect(cost.orphans).toEqual([
      expect.objectContaining({ env: 'live', kind: 'PersistentVolumeClaim', name: 'old-statements' }),
    ]);

    const backlog = (await call('day2_backlog', { format: 'items', limit: 50 })).sc;
    const items = backlog.items as { id: string; env: string; category: string; risk: string }[];
    expect(envsOf(items)).toEqual(ENVS);
    expect(items.map((i) => i.id)).toEqual(
      expect.arrayContaining([
        'credentials:live:billing-api/live/db',
        'drift:live:Deployment team-billing/invoice-worker',
        'access:live:binding:team-billing/auditor-admin',
        'cost:qa:idle:team-billing/invoice-worker',
        'versions:live:billing-api',
      ]),
    );
    // Risk follows the tier, not the name: the overdue credential in live (production) is high.
    expect(items.find((i) => i.category === 'credentials')?.risk).toBe('high');
    // Only the registry is unread (the fleet has none); every other backend answered.
    expect((backlog.gaps as { backend: string }[]).map((g) => g.backend)).toEqual(['registry']);
  });

  it('grant_access in live needs approval; access_review defaults to the production tier (live)', async () => {
    const { sc } = await call('grant_access', {
      principal: 'lee.marsh',
      env: 'live',
      scope: 'billing-api',
      role: 'edit',
      duration: '2h',
      reason: 'INV-12: month-end fix',
    });
    expect(sc.status).toBe('approval_required');
    expect(sc.policy).toMatchObject({ rule: 'production-access-grant' });
    // A service grant binds a Role narrowed to the service's objects, not the namespace's edit.
    expect(sc.plan).toMatchObject({ namespace: 'team-billing', role: { kind: 'Role' } });

    const review = (await call('access_review', {})).sc;
    expect(review.envs).toEqual(['live']);
    expect(review.privileged).toEqual([
      expect.objectContaining({ env: 'live', namespace: 'team-billing', binding: 'auditor-admin' }),
    ]);
  });

  it('patch_report and capacity_report answer for live', async () => {
    for (const tool of ['patch_report', 'capacity_report']) {
      const { sc } = await call(tool, { env: 'live' });
      expect(JSON.stringify(sc)).toContain('live');
    }
  });

  it('resources: deployments per fleet environment, completion offers the fleet environments', async () => {
    const list = await client.listResources();
    const uris = list.resources.map((r) => r.uri);
    expect(uris.filter((u) => u.startsWith('day2://deployments/')).sort()).toEqual(
      ENVS.map((e) => `day2://deployments/${e}`),
    );
    const live = await client.readResource({ uri: 'day2://deployments/live' });
    const body = JSON.parse((live.contents[0] as { text?: string }).text ?? '{}') as Json;
    expect(envsOf(body.deployments)).toEqual(['live']);
    expect(demoWords(body)).toEqual([]);
    const done = await client.complete({
      ref: { type: 'ref/resource', uri: 'day2://deployments/{env}' },
      argument: { name: 'env', value: '' },
    });
    expect([...done.completion.values].sort()).toEqual(ENVS);
    for (const uri of ['day2://credentials', 'day2://backlog', 'day2://graph']) {
      const res = await client.readResource({ uri });
      expect(demoWords(JSON.parse((res.contents[0] as { text?: string }).text ?? '{}')), uri).toEqual([]);
    }
  });

  it('prompts name the fleet environment and tools, nothing of the demo', async () => {
    const triage = await client.getPrompt({
      name: 'incident-triage',
      arguments: { service: 'billing-api', env: 'live' },
    });
    const rotate = await client.getPrompt({ name: 'rotate-credentials', arguments: { env: 'live' } });
    for (const p of [triage, rotate]) {
      const text = p.messages.map((m) => (m.content as { text?: string }).text ?? '').join('\n');
      expect(text).toContain('live');
      expect(demoWords(text)).toEqual([]);
    }
  });
});
