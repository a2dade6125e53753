import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinFleetPath } from '../../../src/sandbox/load-fleet.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

/**
 * "Scale it to handle 3× traffic" through a real MCP client, on the demo fleet and on the north
 * fleet (environments `live` and `qa`): nothing here names a service or an environment. The
 * service is found from capacity_report: one with an HPA and pod metrics, and one without an HPA.
 */
const FLEETS = [
  { name: 'demo', path: builtinFleetPath() },
  { name: 'north', path: fileURLToPath(new URL('../../fixtures/fleets/north.yaml', import.meta.url)) },
];

interface Row {
  service: string;
  replicas: { desired: number };
  cpu: { usage_m: number | null; request_m: number };
  hpa?: { min: number; max: number; target_cpu_pct?: number };
}

describe.each(FLEETS)('plan_capacity on the $name fleet', ({ path }) => {
  let h: SandboxHarness;
  let agent: Client;
  let env: string;
  let rows: Row[];

  async function call(name: string, args: Record<string, unknown>) {
    const r = (await agent.callTool({ name, arguments: { env, ...args } })) as CallToolResult;
    const text = (r.content[0] as { text: string }).text;
    expect(r.isError ?? false, text).toBe(false);
    return { sc: r.structuredContent as Record<string, unknown>, text };
  }

  beforeAll(async () => {
    h = await startSandboxHarness({ fleet: path });
    agent = await h.connect('agent-bot');
    env = Object.entries(h.sandbox.fleet.fleet.environments).find(([, e]) => e.tier === 'production')![0];
    rows = (await call('capacity_report', { limit: 100 })).sc.services as Row[];
  }, 60_000);
  afterAll(async () => h?.close());

  it('works out replicas from measured CPU, sees the HPA max that would cap them, and ends with the call that lifts it', async () => {
    const row = rows.find((r) => r.hpa && r.cpu.usage_m && r.cpu.request_m > 0);
    expect(row, 'a service with an HPA and pod metrics').toBeDefined();
    // Enough load that the HPA's max cannot hold it.
    const perPod = row!.cpu.request_m / row!.replicas.desired;
    const target = row!.hpa!.target_cpu_pct ?? 70;
    const factor = Math.ceil(((row!.hpa!.max + 2) * perPod * target) / 100 / row!.cpu.usage_m!);
    const { sc, text } = await call('plan_capacity', { service: row!.service, load_factor: factor });
    const needed = sc.needed_replicas as number;
    expect(needed).toBe(Math.ceil((row!.cpu.usage_m! * factor) / ((perPod * target) / 100)));
    expect(needed).toBeGreaterThan(row!.hpa!.max);
    expect(sc.hpa).toMatchObject({ max: row!.hpa!.max, caps: true });
    const calls = sc.calls as { tool: string; arguments: Record<string, unknown> }[];
    expect(calls[0]).toMatchObject({ tool: 'set_autoscaling', arguments: { service: row!.service, env } });
    expect(calls[0]!.arguments.max_replicas as number).toBeGreaterThanOrEqual(needed);
    // The model reads the text: the cap, the basis and the exact call are in it.
    expect(text).toContain(`its max caps scaling below ${needed}`);
    expect(text).toContain(`- set_autoscaling ${JSON.stringify(calls[0]!.arguments)}`);
    expect(text).toMatch(/basis: \d+m CPU in use/);
  });

  it('without an HPA the call is scale_deployment, with set_autoscaling offered to follow the load', async () => {
    const row = rows.find((r) => !r.hpa && r.cpu.request_m > 0 && r.replicas.desired > 0);
    expect(row, 'a service without an HPA').toBeDefined();
    // Enough load for two more replicas than run now.
    const perPod = row!.cpu.request_m / row!.replicas.desired;
    const factor = row!.cpu.usage_m
      ? Math.ceil(((row!.replicas.desired + 2) * perPod * 0.7) / row!.cpu.usage_m)
      : 3;
    const { sc, text } = await call('plan_capacity', { service: row!.service, load_factor: factor });
    expect(sc.needed_replicas as number).toBeGreaterThan(row!.replicas.desired);
    const calls = sc.calls as { tool: string; arguments: Record<string, unknown> }[];
    expect(calls.map((c) => c.tool)).toEqual(['scale_deployment']);
    expect(calls[0]!.arguments.replicas).toBe(sc.needed_replicas);
    expect(text).toContain('no HPA: set_autoscaling');
    expect(sc.quota).toBeInstanceOf(Array);
  });

  it('an unknown service is an error that names the field', async () => {
    const r = (await agent.callTool({
      name: 'plan_capacity',
      arguments: { env, service: 'no-such-service-here', load_factor: 2 },
    })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect((r.content[0] as { text: string }).text).toMatch(/service/);
  });
});
