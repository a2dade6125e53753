import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinFleetPath } from '../../../src/sandbox/load-fleet.js';
import { LOAD_ANNOTATION } from '../../../src/sandbox/kubernetes/pod-metrics.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';
import { waitFor } from '../../fixtures/wait-for.js';

/**
 * "Scale it to handle 3× traffic", watched: plan_capacity's set_autoscaling call is approved and
 * applied, the load on the service rises by that factor in the emulator's metric source, and the
 * emulator's HPA controller scales the Deployment out to what plan_capacity said, as
 * list_deployments and capacity_report show. On the demo fleet and on north (envs live/qa); no
 * service or environment is named.
 */
const FLEETS = [
  { name: 'demo', path: builtinFleetPath() },
  { name: 'north', path: fileURLToPath(new URL('../../fixtures/fleets/north.yaml', import.meta.url)) },
];

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.each(FLEETS)('the HPA scales out after plan_capacity on the $name fleet', ({ path }) => {
  let h: SandboxHarness;
  let agent: Client;
  let env: string;

  async function call(name: string, args: Record<string, unknown>, inEnv = true): Promise<Obj> {
    const r = (await agent.callTool({ name, arguments: inEnv ? { env, ...args } : args })) as CallToolResult;
    const text = (r.content[0] as { text: string }).text;
    expect(r.isError ?? false, text).toBe(false);
    return r.structuredContent as Obj;
  }

  beforeAll(async () => {
    h = await startSandboxHarness({ fleet: path, timing: { hpaSyncMs: 40 } });
    agent = await h.connect('agent-bot');
    env = Object.entries(h.sandbox.fleet.fleet.environments).find(([, e]) => e.tier === 'production')![0];
  }, 60_000);
  afterAll(async () => h?.close());

  it('applies the planned HPA, raises the load, and watches the Deployment reach the planned replicas', async () => {
    const rows = (await call('capacity_report', { limit: 100 })).services as Obj[];
    const row = rows.find((r) => r.hpa && r.cpu.usage_m && r.cpu.request_m > 0);
    expect(row, 'a service with an HPA and pod metrics').toBeDefined();
    const start = row!.replicas.desired as number;
    // Enough load that the HPA's max cannot hold it, so the plan's first call lifts the max.
    const perPod = row!.cpu.request_m / start;
    const target = row!.hpa.target_cpu_pct ?? 70;
    const factor = Math.ceil(((row!.hpa.max + 2) * perPod * target) / 100 / row!.cpu.usage_m);
    const plan = await call('plan_capacity', { service: row!.service, load_factor: factor });
    const needed = plan.needed_replicas as number;
    expect(needed).toBeGreaterThan(start);
    const setHpa = (plan.calls as Obj[]).find((c) => c.tool === 'set_autoscaling');
    expect(setHpa, 'plan_capacity proposes set_autoscaling').toBeDefined();

    // Before the load rises the HPA holds the Deployment where it is.
    const k8s = h.sandbox.emulators.kubernetes[env]!;
    const ns = setHpa!.arguments.namespace as string | undefined;
    const listed = async () =>
      ((await call('list_deployments', { service: row!.service })).deployments as Obj[]).find(
        (r) => r.env === env,
      )!;
    const dep = await listed();
    await new Promise((r) => setTimeout(r, 200));
    expect((await listed()).desired).toBe(start);

    const first = await call('set_autoscaling', setHpa!.arguments);
    expect(first.status).toBe('approval_required');
    await h.rt.approvals.approve(first.approval_id as string, 'alice', { channel: 'cli' });
    const token = (await call('get_approval', { approval_id: first.approval_id }, false))
      .approval_token as string;
    const applied = await call('set_autoscaling', { ...setHpa!.arguments, approval_token: token });
    expect(applied.status, JSON.stringify(applied)).toBe('executed');

    // The load rises by the factor: the Deployment's total CPU, shared by however many pods run.
    const d = k8s.store.get('apps/v1', 'Deployment', dep.namespace, dep.deployment)!;
    d.metadata.annotations = {
      ...d.metadata.annotations,
      [LOAD_ANNOTATION]: `cpu=${Math.round((row!.cpu.usage_m as number) * factor)}m`,
    };
    k8s.store.put(d);

    // The controller settles where the load is within its 10% tolerance of the target, as the real
    // one does: the planned replicas, or one step short when the last step would change under 10%.
    const hpaNow = () =>
      k8s.store.get(
        'autoscaling/v2',
        'HorizontalPodAutoscaler',
        ns ?? dep.namespace,
        (applied.result as Obj).hpa as string,
      )!;
    const floor = Math.ceil(needed / 1.1);
    let settled = 0;
    await waitFor(async () => {
      const now = await listed();
      const status = (hpaNow().status ?? {}) as Obj;
      const ok =
        now.desired >= floor &&
        now.desired <= needed &&
        now.ready === now.desired &&
        status.desiredReplicas === now.desired &&
        status.currentReplicas === now.desired;
      settled = ok ? (now.desired as number) : 0;
      return ok ? true : undefined;
    }, `between ${floor} and ${needed} replicas, ready and settled`);
    const events = k8s.store
      .list('v1', 'Event', dep.namespace)
      .filter((e) => (e as Obj).reason === 'SuccessfulRescale');
    expect(events.map((e) => (e as Obj).message)).toContainEqual(
      expect.stringContaining(`New size: ${settled}`),
    );
    const report = (await call('capacity_report', { limit: 100 })).services as Obj[];
    expect(report.find((r) => r.service === row!.service)!.replicas.desired).toBe(settled);
  }, 60_000);
});
