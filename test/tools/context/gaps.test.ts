import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

/** A backend that fails every request: answers still come, with gaps that name it. */

let h: SandboxHarness;
let client: Client;
type Json = Record<string, unknown>;
type Gap = { backend: string; env?: string; reason: string };

beforeAll(async () => {
  h = await startSandboxHarness({ config: { backends: { retries: 1, timeout: 5000 } } });
  client = await h.connect();
  h.sandbox.emulators.datadog.faults.add({ kind: 'status', status: 500 });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function sc(name: string, args: Json): Promise<Json> {
  const res = await client.callTool({ name, arguments: args });
  expect(res.isError ?? false).toBe(false);
  return res.structuredContent as Json;
}

describe('with Datadog answering 500 to everything', () => {
  it('list_alerts still returns the Alertmanager alerts and names Datadog in gaps', async () => {
    const out = await sc('list_alerts', { limit: 100 });
    const alerts = out.alerts as { source: string }[];
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => a.source === 'alertmanager')).toBe(true);
    const gaps = out.gaps as Gap[];
    expect(gaps.map((g) => `${g.backend}/${g.env}`).sort()).toEqual([
      'datadog/dev',
      'datadog/prod',
      'datadog/staging',
    ]);
    expect(gaps[0]!.reason).toMatch(/^datadog: /);
  });

  it('get_service still shows the deployment, with the Datadog gap', async () => {
    const out = await sc('get_service', { service: 'checkout', env: 'prod' });
    expect(out.deployment).toMatchObject({ version: '2.8.0' });
    expect((out.alerts as { source: string }[]).some((a) => a.source === 'alertmanager')).toBe(true);
    expect((out.gaps as Gap[]).map((g) => g.backend)).toEqual(['datadog']);
  });

  it('dependency_impact marks alert status unknown rather than ok', async () => {
    const out = await sc('dependency_impact', { service: 'checkout', env: 'prod', depth: 1 });
    const nodes = out.nodes as { id: string; alert_status: string }[];
    expect(nodes.find((n) => n.id === 'payment-service')?.alert_status).toBe('unknown');
    expect((out.gaps as Gap[]).map((g) => g.backend)).toContain('datadog');
  });

  it('a Kubernetes cluster down leaves its environment out of list_deployments, named in gaps', async () => {
    h.sandbox.emulators.kubernetes.dev!.faults.add({ kind: 'status', status: 503 });
    const out = await sc('list_deployments', { limit: 100 });
    const rows = out.deployments as { env: string }[];
    expect(rows.some((r) => r.env === 'prod')).toBe(true);
    expect(rows.some((r) => r.env === 'dev')).toBe(false);
    expect(out.gaps).toEqual([expect.objectContaining({ backend: 'kubernetes', env: 'dev' })]);
    h.sandbox.emulators.kubernetes.dev!.faults.clear();
  });
});
