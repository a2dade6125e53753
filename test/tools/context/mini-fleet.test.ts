import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

/** Every context tool and resource on a second fleet (test/fixtures/fleets/mini.yaml) with its own catalog. */

const MINI = fileURLToPath(new URL('../../fixtures/fleets/mini.yaml', import.meta.url));
let h: SandboxHarness;
let client: Client;
type Json = Record<string, unknown>;

async function sc(name: string, args: Json): Promise<Json> {
  const res = await client.callTool({ name, arguments: args });
  expect(res.isError ?? false).toBe(false);
  return res.structuredContent as Json;
}
async function read(uri: string): Promise<Json> {
  const res = await client.readResource({ uri });
  const first = res.contents[0] as { text?: string };
  return JSON.parse(first.text ?? '{}') as Json;
}

beforeAll(async () => {
  h = await startSandboxHarness({ fleet: MINI });
  client = await h.connect();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('the mini fleet', () => {
  it('get_service: ledger in prod with owner, version, alerts from both sources, dependencies', async () => {
    const out = await sc('get_service', { service: 'ledger', env: 'prod' });
    expect(out).toMatchObject({
      owner: 'core-team',
      depends_on: ['indexer', 'resource:ledger-db'],
      secrets: ['prod/ledger/db'],
    });
    expect(out.deployment).toMatchObject({ version: '1.3.0', revision: 4, ready: 2, desired: 2 });
    const sources = (out.alerts as { source: string }[]).map((a) => a.source).sort();
    expect(sources).toEqual(['alertmanager', 'datadog']);
    expect(out.gaps).toEqual([]);
  });

  it('get_service: the OOMKilled indexer pod is a problem', async () => {
    const out = await sc('get_service', { service: 'indexer', env: 'prod' });
    const pods = out.pods as { total: number; restarts: number; problems: string[] };
    expect(pods).toMatchObject({ total: 2, restarts: 3 });
    expect(pods.problems.join('\n')).toContain('OOMKilled');
  });

  it('dependency_impact: indexer is upstream of ledger', async () => {
    const out = await sc('dependency_impact', { service: 'indexer', env: 'prod' });
    expect(out.nodes).toEqual([
      expect.objectContaining({
        id: 'ledger',
        direction: 'downstream',
        owner: 'core-team',
        alert_status: 'firing',
      }),
    ]);
  });

  it('list_alerts and list_deployments', async () => {
    const alerts = await sc('list_alerts', {});
    expect(
      (alerts.alerts as { name: string; env: string }[]).map((a) => `${a.env}:${a.name}`).sort(),
    ).toEqual(['prod:LedgerSlowWrites', 'prod:[ledger] write latency above 500ms (prod)']);
    const deps = await sc('list_deployments', {});
    expect(deps.total).toBe(4);
    expect(deps.skew).toEqual([{ service: 'ledger', versions: { dev: '1.4.0', prod: '1.3.0' } }]);
  });

  it('resources: services, one service, graph, alerts, deployments', async () => {
    const services = await read('day2://services');
    expect((services.services as { name: string }[]).map((s) => s.name).sort()).toEqual([
      'indexer',
      'ledger',
    ]);
    const ledger = await read('day2://services/ledger');
    expect((ledger.deployments as { env: string }[]).map((d) => d.env).sort()).toEqual(['dev', 'prod']);
    const graph = await read('day2://graph');
    expect((graph.nodes as { id: string }[]).map((n) => n.id)).toEqual(
      expect.arrayContaining(['ledger', 'indexer']),
    );
    const alerts = await read('day2://alerts');
    expect((alerts.alerts as unknown[]).length).toBe(2);
    const dev = await read('day2://deployments/dev');
    expect(
      (dev.deployments as { service: string; version: string }[])
        .map((d) => `${d.service}@${d.version}`)
        .sort(),
    ).toEqual(['indexer@0.4.1', 'ledger@1.4.0']);
    const done = await client.complete({
      ref: { type: 'ref/resource', uri: 'day2://services/{name}' },
      argument: { name: 'name', value: 'le' },
    });
    expect(done.completion.values).toEqual(['ledger']);
  });

  it("list_credentials judges age by the fleet's own rotation policy (30 days)", async () => {
    const out = await sc('list_credentials', { env: 'prod', limit: 100 });
    const rows = out.credentials as { name: string; status: string }[];
    // 45 days old with no rule of its own: overdue under the fleet's 30 days, not under day2's default 90.
    expect(rows.find((r) => r.name === 'prod/indexer/api-key')?.status).toBe('overdue');
    expect(h.rt.deps.config.rotation).toMatchObject({ max_age_days: 30, warn_days: 7 });
  });
});
