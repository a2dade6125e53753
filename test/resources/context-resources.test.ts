import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';

/** The context resources over the demo fleet, read and subscribed through an MCP client. */

let h: SandboxHarness;
let client: Client;

type Json = Record<string, unknown>;
async function read(
  uri: string,
): Promise<{ json: Json; parts: { uri: string; mimeType?: string; text?: string }[] }> {
  const res = await client.readResource({ uri });
  const parts = res.contents as { uri: string; mimeType?: string; text?: string }[];
  const main = parts.find((p) => p.mimeType === 'application/json') ?? parts[0]!;
  return { json: JSON.parse(main.text ?? '{}') as Json, parts };
}

beforeAll(async () => {
  h = await startSandboxHarness({ config: { backends: { poll_interval: 150 } } });
  client = await h.connect('sre-bob');
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('context resources', () => {
  it('day2://services lists every catalog service with owner and dependency counts', async () => {
    const { json } = await read('day2://services');
    const services = json.services as {
      name: string;
      owner?: string;
      depends_on: number;
      dependents: number;
    }[];
    expect(services.length).toBeGreaterThanOrEqual(15);
    expect(services.find((s) => s.name === 'checkout')).toMatchObject({ owner: 'checkout-team' });
    expect(services.find((s) => s.name === 'checkout')!.depends_on).toBeGreaterThan(3);
  });

  it('day2://services/{name} shows one service with its deployments in every env, and completes names', async () => {
    const { json } = await read('day2://services/checkout');
    expect(json.name).toBe('checkout');
    const rows = json.deployments as { env: string; version: string; revision?: number }[];
    expect(rows.map((r) => r.env).sort()).toEqual(['dev', 'prod', 'staging']);
    expect(rows.find((r) => r.env === 'prod')).toMatchObject({ version: '2.8.0', revision: 14 });
    expect(json.gaps).toEqual([]);

    const done = await client.complete({
      ref: { type: 'ref/resource', uri: 'day2://services/{name}' },
      argument: { name: 'name', value: 'che' },
    });
    expect(done.completion.values).toContain('checkout');
    expect(done.completion.values.every((v) => v.startsWith('che'))).toBe(true);
  });

  it('refuses an unknown service', async () => {
    await expect(client.readResource({ uri: 'day2://services/no-such-service' })).rejects.toThrow(
      /no-such-service/,
    );
  });

  it('audits every read, the refused ones too, with who read what', async () => {
    await read('day2://services');
    await expect(client.readResource({ uri: 'day2://services/no-such-service' })).rejects.toThrow();
    await h.rt.auditLog.flush();
    const reads = (
      await h.rt.deps.store.queryAudit({ event: 'resource.read', principal: 'sre-bob', limit: 500 })
    ).map((r) => JSON.parse(r.record) as { resource: string; outcome: { ok: boolean; error?: string } });
    expect(reads.find((r) => r.resource === 'day2://services')?.outcome.ok).toBe(true);
    expect(reads.find((r) => r.resource === 'day2://services/no-such-service')?.outcome).toMatchObject({
      ok: false,
      error: 'ResourceNotFoundError',
    });
  });

  it('day2://graph has JSON nodes and edges and a Mermaid part', async () => {
    const { json, parts } = await read('day2://graph');
    const nodes = json.nodes as { id: string }[];
    const edges = json.edges as unknown[];
    expect(nodes.map((n) => n.id)).toEqual(expect.arrayContaining(['checkout', 'payment-service']));
    expect(edges.length).toBeGreaterThan(10);
    const mermaid = parts.find((p) => p.mimeType === 'text/vnd.mermaid');
    expect(mermaid?.uri).toBe('day2://graph#mermaid');
    expect(mermaid?.text).toMatch(/^(graph|flowchart) /);
    expect(mermaid?.text).toContain('checkout');
  });

  it('day2://deployments/{env} lists an environment with skew against the others', async () => {
    const { json } = await read('day2://deployments/staging');
    expect(json.env).toBe('staging');
    const rows = json.deployments as { service: string; env: string; status: string }[];
    expect(rows.every((r) => r.env === 'staging')).toBe(true);
    expect(rows.find((r) => r.service === 'notifications')).toMatchObject({ status: 'degraded' });
    const skew = json.skew as { service: string }[];
    expect(skew.map((s) => s.service)).toContain('web-frontend');
    const listed = await client.listResources();
    expect(listed.resources.map((r) => r.uri)).toEqual(
      expect.arrayContaining([
        'day2://deployments/prod',
        'day2://deployments/staging',
        'day2://deployments/dev',
      ]),
    );
  });

  it('day2://alerts announces a change to subscribers', async () => {
    const before = await read('day2://alerts');
    const alerts = before.json.alerts as { id: string; source: string }[];
    expect(alerts.map((a) => a.id)).toContain('datadog:1001');
    expect(alerts.some((a) => a.source === 'alertmanager')).toBe(true);

    const updated = new Promise<string>((resolve) => {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri));
    });
    await client.subscribeResource({ uri: 'day2://alerts' });
    h.sandbox.emulators.datadog.monitors.setState(1001, 'OK');
    await expect(updated).resolves.toBe('day2://alerts');
    const after = await read('day2://alerts');
    expect((after.json.alerts as { id: string }[]).map((a) => a.id)).not.toContain('datadog:1001');
    await client.unsubscribeResource({ uri: 'day2://alerts' });
  });
});
