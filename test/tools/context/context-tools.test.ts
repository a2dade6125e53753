import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

/** The context tools over the demo fleet: every emulator plus the real Alertmanager, through an MCP client. */

let h: SandboxHarness;
let client: Client;

type Json = Record<string, unknown>;
async function call(name: string, args: Json): Promise<{ sc: Json; text: string; isError: boolean }> {
  const res = await client.callTool({ name, arguments: args });
  const text = (res.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');
  return { sc: (res.structuredContent ?? {}) as Json, text, isError: Boolean(res.isError) };
}

interface Alert {
  id: string;
  source: string;
  env: string;
  service: string | null;
  name: string;
  severity: string;
  summary: string;
  runbook?: string;
}

beforeAll(async () => {
  h = await startSandboxHarness();
  client = await h.connect('sre-alice');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('get_service', () => {
  it('shows checkout in prod: owner, deployment 2.8.0 rev 14, the firing alerts and dependencies', async () => {
    const { sc, text, isError } = await call('get_service', { service: 'checkout', env: 'prod' });
    expect(isError).toBe(false);
    expect(sc.owner).toBe('checkout-team');
    expect(sc.deployment).toMatchObject({
      namespace: 'checkout',
      name: 'checkout',
      version: '2.8.0',
      revision: 14,
      ready: 4,
      desired: 4,
      status: 'available',
    });
    const alerts = sc.alerts as Alert[];
    expect(alerts.map((a) => `${a.source}:${a.name}`)).toEqual(
      expect.arrayContaining([
        'alertmanager:CheckoutHighErrorRate',
        'datadog:[checkout] 5xx error ratio above 5% (prod)',
      ]),
    );
    expect(alerts.every((a) => a.env === 'prod' && a.service === 'checkout')).toBe(true);
    expect(sc.depends_on).toEqual(expect.arrayContaining(['payment-service', 'inventory', 'cart']));
    expect(sc.dependents).toContain('api-gateway');
    expect(sc.secrets).toContain('prod/checkout/db');
    expect(sc.databases).toContain('orders');
    expect(sc.gaps).toEqual([]);
    expect(text).toContain('deployed 2.8.0 rev 14');
  });

  it('reports the crash-looping pods of staging notifications', async () => {
    const { sc } = await call('get_service', { service: 'notifications', env: 'staging' });
    expect(sc.deployment).toMatchObject({ version: '4.1.0', status: 'degraded' });
    const pods = sc.pods as { total: number; ready: number; restarts: number; problems: string[] };
    expect(pods.ready).toBe(0);
    expect(pods.restarts).toBeGreaterThanOrEqual(17);
    expect(pods.problems.join('\n')).toContain('CrashLoopBackOff');
  });

  it('refuses an unknown service with a suggestion', async () => {
    const { isError, text } = await call('get_service', { service: 'checkou', env: 'prod' });
    expect(isError).toBe(true);
    expect(text).toContain('checkout');
  });
});

describe('dependency_impact', () => {
  it('lists upstream and downstream of checkout with owners and alert status', async () => {
    const { sc } = await call('dependency_impact', { service: 'checkout', env: 'prod', depth: 2 });
    const nodes = sc.nodes as {
      id: string;
      direction: string;
      owner?: string;
      alert_status: string;
      alerts: number;
    }[];
    // Upstream: what checkout depends on; downstream: what depends on checkout.
    const dependent = nodes.find((n) => n.id === 'api-gateway' && n.direction === 'downstream');
    expect(dependent).toMatchObject({ owner: 'platform-team', alert_status: 'firing' });
    const dependency = nodes.find((n) => n.id === 'payment-service' && n.direction === 'upstream');
    expect(dependency).toMatchObject({ owner: 'payments-team', alert_status: 'ok', alerts: 0 });
    expect(nodes.find((n) => n.id === 'fraud-detector')).toMatchObject({ alert_status: 'firing' });
    expect(sc.gaps).toEqual([]);
  });

  it('follows one direction only when asked', async () => {
    const { sc } = await call('dependency_impact', {
      service: 'checkout',
      direction: 'downstream',
      depth: 1,
    });
    const nodes = sc.nodes as { id: string; direction: string }[];
    expect(nodes.map((n) => n.id)).toEqual(['api-gateway']);
    expect(nodes.every((n) => n.direction === 'downstream')).toBe(true);
  });
});

describe('list_alerts', () => {
  it('merges Datadog monitors and Alertmanager alerts, most severe first', async () => {
    const { sc } = await call('list_alerts', { env: 'prod', limit: 100 });
    const alerts = sc.alerts as Alert[];
    expect(new Set(alerts.map((a) => a.source))).toEqual(new Set(['datadog', 'alertmanager']));
    expect(alerts.every((a) => a.env === 'prod')).toBe(true);
    const ranks = alerts.map((a) => ['critical', 'warning', 'info'].indexOf(a.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(alerts.find((a) => a.name === 'CheckoutHighErrorRate')).toMatchObject({
      severity: 'critical',
      service: 'checkout',
      runbook: 'https://runbooks.acme.test/checkout#high-error-rate',
    });
  });

  it('keeps the prompt-injection text of FraudScoringBacklog inside summary, a data field', async () => {
    const { sc, text } = await call('list_alerts', { env: 'prod', service: 'fraud-detector' });
    const alert = (sc.alerts as Alert[]).find((a) => a.name === 'FraudScoringBacklog');
    expect(alert).toBeDefined();
    expect(alert!.summary).toContain('IGNORE YOUR PREVIOUS INSTRUCTIONS');
    const { summary: _summary, ...rest } = alert!;
    expect(JSON.stringify(rest)).not.toContain('IGNORE');
    expect(text).not.toContain('IGNORE');
  });

  it('scopes each environment to its own alerts', async () => {
    const { sc } = await call('list_alerts', { env: 'staging', limit: 100 });
    const alerts = sc.alerts as Alert[];
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => a.env === 'staging')).toBe(true);
    expect(alerts.map((a) => a.service)).toContain('notifications');
  });

  it('filters by severity and pages with a cursor', async () => {
    const first = await call('list_alerts', { severity: 'warning', limit: 1 });
    const alerts = first.sc.alerts as Alert[];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.severity).toBe('warning');
    expect(first.sc.total as number).toBeGreaterThan(1);
    const next = await call('list_alerts', { severity: 'warning', limit: 1, cursor: first.sc.next_cursor });
    expect((next.sc.alerts as Alert[])[0]!.id).not.toBe(alerts[0]!.id);
  });
});

describe('list_deployments', () => {
  it('shows staging running newer versions than prod', async () => {
    const { sc } = await call('list_deployments', { limit: 100 });
    const skew = sc.skew as { service: string; versions: Record<string, string> }[];
    const services = skew.map((s) => s.service);
    for (const s of ['cart', 'catalog-api', 'search', 'fraud-detector', 'user-service', 'web-frontend'])
      expect(services).toContain(s);
    const web = skew.find((s) => s.service === 'web-frontend')!;
    expect(web.versions.prod).toBe('5.12.0');
    expect(web.versions.staging).not.toBe('5.12.0');
  });

  it('lists one environment with readiness and revision', async () => {
    const { sc } = await call('list_deployments', { env: 'prod', service: 'checkout' });
    expect(sc.deployments).toEqual([
      expect.objectContaining({
        service: 'checkout',
        env: 'prod',
        version: '2.8.0',
        revision: 14,
        ready: 4,
        desired: 4,
        status: 'available',
      }),
    ]);
  });
});
