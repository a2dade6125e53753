import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { backlogResource } from '../../../src/resources/backlog-resource.js';
import { accessTools } from '../../../src/tools/access/index.js';
import { costTools } from '../../../src/tools/cost/index.js';
import { allTools } from '../../../src/tools/index.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let h: SandboxHarness;
let agent: Client;

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const sc = (r: CallToolResult) => r.structuredContent as Obj;
/** The export a backlog call attached to its result as an embedded resource. */
const attached = (r: CallToolResult) =>
  r.content.map((c) => (c.type === 'resource' && 'text' in c.resource ? c.resource.text : '')).join('');
const deployment = (env: string, ns: string, name: string) =>
  h.sandbox.emulators.kubernetes[env]!.store.get('apps/v1', 'Deployment', ns, name) as Obj;

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await agent.callTool({ name, arguments: args })) as CallToolResult;
}

beforeAll(async () => {
  h = await startSandboxHarness({
    alertmanager: false,
    extraTools: [...costTools, ...accessTools].filter((t) => !allTools.includes(t)),
  });
  agent = await h.connect('agent-bot');
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('cost_report on the sandbox fleet', () => {
  it('names the idle dev recommendation deployment with its numbers and the call that scales it to zero', async () => {
    const r = await call('cost_report', { env: 'dev' });
    expect(r.isError, text(r)).toBeFalsy();
    const idle = (sc(r).idle as Obj[]).find((i) => i.deployment === 'recommendation')!;
    expect(idle).toMatchObject({
      env: 'dev',
      namespace: 'storefront',
      service: 'recommendation',
      replicas: 2,
      p95_cpu_m: 1,
      requests: { cpu: '1', memory: '1Gi' },
    });
    expect(idle.owner).toBeTruthy();
    // 2 pods × (1 vCPU × 0.04 + 1 GiB × 0.005) × 730 h with the default prices.
    expect(idle.monthly_savings).toBeCloseTo(65.7, 2);
    expect(idle.fix).toEqual({
      tool: 'scale_idle_to_zero',
      arguments: { env: 'dev', namespace: 'storefront', deployment: 'recommendation' },
    });
    expect(sc(r).basis.p95).toContain('nearest rank');
    expect(text(r)).toContain('idle: dev/storefront/recommendation');
  });

  it('names prod reporting-batch as over-requested with suggested requests, and lists the prod orphans', async () => {
    const r = await call('cost_report', { env: 'prod', limit: 50 });
    expect(r.isError, text(r)).toBeFalsy();
    const o = sc(r);
    const rb = (o.rightsizing as Obj[]).find((x) => x.deployment === 'reporting-batch')!;
    expect(rb).toMatchObject({
      namespace: 'analytics',
      service: 'reporting-batch',
      requests: { cpu: '4', memory: '8Gi' },
      p95: { cpu: '150m' },
      suggested: { cpu: '200m' },
    });
    expect(rb.cpu_request_vs_p95).toBeGreaterThan(20);
    expect(rb.monthly_savings).toBeGreaterThan(100);
    expect(rb.monthly_savings).toBeLessThan(rb.monthly_cost);
    const orphans = (o.orphans as Obj[]).map((x) => `${x.kind} ${x.namespace}/${x.name}`);
    expect(orphans).toEqual(
      expect.arrayContaining([
        'PersistentVolumeClaim analytics/old-exports',
        'PersistentVolumeClaim storefront/search-snapshots-legacy',
        'Service checkout/checkout-canary',
        'ConfigMap storefront/holiday-banner-2025',
      ]),
    );
    expect(orphans).not.toContain('PersistentVolumeClaim analytics/reporting-scratch');
    expect((o.orphans as Obj[]).find((x) => x.name === 'search-snapshots-legacy')!.monthly_cost).toBeCloseTo(
      10,
      2,
    );
    expect(o.totals.total).toBeCloseTo(
      o.totals.idle_savings + o.totals.rightsizing_savings + o.totals.orphan_costs,
      1,
    );
    // In production the idle list carries no scale_idle_to_zero call (policy denies it there).
    expect((o.idle as Obj[]).every((i) => i.fix === undefined)).toBe(true);
  });

  it('uses the configured price table', async () => {
    h.rt.deps.config.cost = {
      prices: { dev: { vcpu_hour: 0.1, gib_hour: 0 } },
      idle_cpu_millicores: 20,
      samples: 1,
    };
    try {
      const r = await call('cost_report', { env: 'dev' });
      expect(
        (sc(r).idle as Obj[]).find((i) => i.deployment === 'recommendation')!.monthly_savings,
      ).toBeCloseTo(146, 2);
    } finally {
      h.rt.deps.config.cost = undefined;
    }
  });
});

describe('scale_idle_to_zero', () => {
  it('is denied in production by the default policy, and nothing changes', async () => {
    const writes = h.sandbox.emulators.kubernetes.prod!.writes;
    const r = await call('scale_idle_to_zero', { env: 'prod' });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('scale-to-zero-non-production-only');
    expect(h.sandbox.emulators.kubernetes.prod!.writes).toBe(writes);
  });

  it('plans the idle dev deployments with savings, then scales them to zero and records the previous replicas', async () => {
    const first = await call('scale_idle_to_zero', { env: 'dev', service: 'recommendation' });
    expect(first.isError, text(first)).toBeFalsy();
    expect(sc(first).status).toBe('approval_required');
    const plan = sc(first).plan as Obj;
    expect(plan.deployments).toEqual([
      expect.objectContaining({ namespace: 'storefront', deployment: 'recommendation', replicas: 2 }),
    ]);
    expect(plan.monthly_savings).toBeCloseTo(65.7, 2);
    expect(deployment('dev', 'storefront', 'recommendation').spec.replicas).toBe(2);

    await h.rt.approvals.approve(sc(first).approval_id as string, 'alice', { channel: 'cli' });
    const token = sc(await call('get_approval', { approval_id: sc(first).approval_id }))
      .approval_token as string;
    const done = await call('scale_idle_to_zero', {
      env: 'dev',
      service: 'recommendation',
      approval_token: token,
    });
    expect(done.isError, text(done)).toBeFalsy();
    const out = sc(done).result as Obj;
    expect(out.scaled).toEqual([
      expect.objectContaining({
        deployment: 'recommendation',
        previous_replicas: 2,
        restore_with: {
          tool: 'scale_deployment',
          arguments: { env: 'dev', namespace: 'storefront', deployment: 'recommendation', replicas: 2 },
        },
      }),
    ]);
    const d = deployment('dev', 'storefront', 'recommendation');
    expect(d.spec.replicas).toBe(0);
    expect(d.metadata.annotations['day2.dev/previous-replicas']).toBe('2');

    const again = await call('scale_idle_to_zero', { env: 'dev', service: 'recommendation' });
    expect(again.isError).toBe(true);
    expect(text(again)).toContain('no idle deployment');
  });
});

describe('the Day-2 backlog', () => {
  let items: Obj[];

  it('lists the overdue prod secret and the drifted prod orders with the tool calls that fix them', async () => {
    const r = await call('day2_backlog', { env: 'prod', format: 'items', limit: 100 });
    expect(r.isError, text(r)).toBeFalsy();
    items = sc(r).items as Obj[];
    const secret = items.find((i) => i.id === 'credentials:prod:prod/payment-service/db')!;
    expect(secret).toMatchObject({
      category: 'credentials',
      risk: 'high',
      fix: { tool: 'rotate_credential', arguments: { env: 'prod', secret: 'prod/payment-service/db' } },
    });
    expect(secret.owner).toBeTruthy();
    expect(secret.due < new Date().toISOString().slice(0, 10)).toBe(true);
    const drift = items.find((i) => i.id === 'drift:prod:Deployment checkout/orders')!;
    expect(drift).toMatchObject({
      category: 'drift',
      service: 'orders',
      risk: 'high',
      fix: { tool: 'remediate_drift', arguments: { env: 'prod', objects: ['Deployment checkout/orders'] } },
    });
    expect(drift.detail).toMatch(/replicas|LOG_LEVEL/);
    expect(drift.owner).toBeTruthy();
    expect(items.find((i) => i.id === 'access:prod:binding:payments/contractor-admin')).toMatchObject({
      risk: 'high',
      fix: {
        tool: 'revoke_access',
        arguments: { env: 'prod', namespace: 'payments', binding: 'contractor-admin' },
      },
    });
    expect(
      items.find((i) => i.id === 'cost:prod:rightsize:analytics/reporting-batch')?.monthly_savings,
    ).toBeGreaterThan(100);
    expect(
      items.some(
        (i) =>
          i.category === 'versions' &&
          i.fix?.tool === 'promote_version' &&
          i.fix.arguments.from_env === 'staging',
      ),
    ).toBe(true);
    // Riskiest first.
    const order = { critical: 0, high: 1, medium: 2, low: 3 } as Record<string, number>;
    expect(items.map((i) => order[i.risk])).toEqual(
      [...items.map((i) => order[i.risk]!)].sort((a, b) => a - b),
    );
  });

  it('exports CSV and Markdown for a planner', async () => {
    const csv = attached(await call('day2_backlog', { env: 'prod', format: 'csv', limit: 1 }));
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,category,risk,due,env,service,owner,title,detail,monthly_savings,fix_tool,fix_arguments,action',
    );
    expect(lines.length).toBeGreaterThan(items.length / 2);
    const orders = lines.find((l) => l.startsWith('drift:prod:Deployment checkout/orders,'))!;
    expect(orders).toContain('remediate_drift');
    expect(orders).toContain('"{""env"":""prod"",""objects"":[""Deployment checkout/orders""]}"');

    const md = attached(
      await call('day2_backlog', { env: 'prod', format: 'markdown', category: 'credentials' }),
    );
    expect(md).toContain('## Credentials');
    expect(md).toContain('`rotate_credential {"env":"prod","secret":"prod/payment-service/db"}`');
    expect(md).not.toContain('## Drift');
  });

  it('serves day2://backlog', async () => {
    const res = await backlogResource.read({
      deps: h.rt.deps,
      principal: { id: 'agent-bot', transport: 'stdio' },
      signal: new AbortController().signal,
    });
    const json = res.json as Obj;
    const top = (json.groups as Obj[]).flatMap((g) => g.top as Obj[]);
    expect(top.some((i: Obj) => i.id === 'drift:prod:Deployment checkout/orders')).toBe(true);
    expect(top.some((i: Obj) => i.id === 'credentials:prod:prod/payment-service/db')).toBe(true);
  });
});
