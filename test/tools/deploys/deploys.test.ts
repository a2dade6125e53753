import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { allTools } from '../../../src/tools/index.js';
import { deployTools } from '../../../src/tools/deploys/index.js';
import { scaleDeployment } from '../../../src/tools/deploys/scale-deployment.js';
import type { ExecuteContext } from '../../../src/contract/define-tool.js';
import type { KubeObject } from '../../../src/sandbox/kubernetes/types.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';
import { startTestRegistry, type RegistryProcess } from '../../fixtures/registry.js';
import { actionable } from '../../fixtures/plans.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let h: SandboxHarness;
let agent: Client;
let registry: RegistryProcess;
let digests: Map<string, string>;

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const sc = (r: CallToolResult) => r.structuredContent as Obj;
const kube = (env: string) => h.sandbox.emulators.kubernetes[env]!;
const deployment = (env: string, ns: string, name: string) =>
  kube(env).store.get('apps/v1', 'Deployment', ns, name) as Obj;
const container = (d: Obj, name?: string) =>
  (d.spec.template.spec.containers as Obj[]).find((c) => !name || c.name === name)!;

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await agent.callTool({ name, arguments: args })) as CallToolResult;
}

/** Plan, approve as alice over the CLI channel, read the token with get_approval, execute. */
async function approved(
  name: string,
  args: Record<string, unknown>,
): Promise<{ result: CallToolResult; approvalId: string }> {
  const first = await call(name, args);
  expect(first.isError, text(first)).toBeFalsy();
  expect(sc(first).status).toBe('approval_required');
  const id = sc(first).approval_id as string;
  await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
  const got = await call('get_approval', { approval_id: id });
  const token = sc(got).approval_token as string;
  expect(token).toBeTruthy();
  const result = await call(name, { ...args, approval_token: token });
  return { result, approvalId: id };
}

async function auditOf(tool: string): Promise<Obj[]> {
  await h.rt.auditLog.flush();
  return (await h.rt.deps.store.queryAudit({ tool, limit: 200 })).map((r) => JSON.parse(r.record) as Obj);
}

beforeAll(async () => {
  ({ registry, digests } = await startTestRegistry({
    'shop/web-frontend': ['5.11.3', '5.12.0', '5.12.1', '5.13.0', '5.14.0-rc.1', '6.0.0'],
    'shop/notifications': ['4.0.1', '4.0.2', '4.1.0'],
  }));
  // A generous backend timeout: the first Datadog call loads its SDK, slow on a busy machine.
  h = await startSandboxHarness({
    extraTools: deployTools.filter((t) => !allTools.includes(t)),
    config: { backends: { timeout: 20_000 } },
  });
  // The registry of prod: image refs name registry.acme.test, the API is the real registry on loopback.
  h.sandbox.environments.prod!.registry = { url: registry.url, host: 'registry.acme.test' };
  agent = await h.connect('agent-bot');
  await call('list_alerts', { env: 'staging' });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await registry?.close();
});

describe('scaling', () => {
  it('scales a deployment after approval; plan, approval and audit records all present', async () => {
    const before = deployment('prod', 'checkout', 'cart').spec.replicas as number;
    const { result, approvalId } = await approved('scale_deployment', {
      service: 'cart',
      env: 'prod',
      replicas: before + 1,
    });
    expect(result.isError, text(result)).toBeFalsy();
    expect(sc(result).status).toBe('executed');
    expect(sc(result).result).toMatchObject({ from: before, to: before + 1, deployment: 'cart' });
    expect(deployment('prod', 'checkout', 'cart').spec.replicas).toBe(before + 1);
    const audit = await auditOf('scale_deployment');
    expect(audit.map((a) => a.event)).toEqual(
      expect.arrayContaining(['tool.approval_required', 'tool.execute', 'tool.outcome']),
    );
    expect(audit.find((a) => a.event === 'tool.outcome')?.approval).toMatchObject({ id: approvalId });
  });

  it('refuses a scale the HPA would fight, then moves the HPA bounds with adjust_hpa', async () => {
    const hpa = () =>
      kube('prod').store.get('autoscaling/v2', 'HorizontalPodAutoscaler', 'checkout', 'checkout') as Obj;
    const max = hpa().spec.maxReplicas as number;
    const writes = kube('prod').writes;
    const refused = await call('scale_deployment', { service: 'checkout', env: 'prod', replicas: max + 3 });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain('adjust_hpa=true');
    expect(sc(refused).plan.hpa).toMatchObject({ fights_change: true, max });
    expect(kube('prod').writes).toBe(writes);

    const { result } = await approved('scale_deployment', {
      service: 'checkout',
      env: 'prod',
      replicas: max + 3,
      adjust_hpa: true,
    });
    expect(result.isError, text(result)).toBeFalsy();
    expect(sc(result).result.hpa).toMatchObject({ max: max + 3 });
    expect(hpa().spec.maxReplicas).toBe(max + 3);
    expect(deployment('prod', 'checkout', 'checkout').spec.replicas).toBe(max + 3);
  });

  it('creates an HPA with set_autoscaling', async () => {
    const { result } = await approved('set_autoscaling', {
      service: 'shipping',
      env: 'prod',
      min_replicas: 2,
      max_replicas: 7,
      target_cpu_percent: 65,
    });
    expect(result.isError, text(result)).toBeFalsy();
    const hpas = kube('prod').store.list('autoscaling/v2', 'HorizontalPodAutoscaler') as Obj[];
    const created = hpas.find((x) => x.spec.scaleTargetRef.name === 'shipping')!;
    expect(created.spec).toMatchObject({ minReplicas: 2, maxReplicas: 7 });
    expect(created.spec.metrics[0].resource.target.averageUtilization).toBe(65);
  });

  it('capacity_report lists requests against usage per service, with HPA bounds', async () => {
    const r = await call('capacity_report', { env: 'prod', limit: 100 });
    expect(r.isError, text(r)).toBeFalsy();
    const rows = sc(r).services as Obj[];
    const reporting = rows.find((x) => x.service === 'reporting-batch')!;
    expect(reporting.cpu.request_m).toBeGreaterThan(reporting.cpu.usage_m);
    expect(reporting.flags).toContain('over_provisioned');
    expect(rows.find((x) => x.service === 'checkout')!.hpa).toBeDefined();
  });
});

describe('deploys', () => {
  it('rolls a crash-looping image back on its own and says so', async () => {
    const old = container(deployment('prod', 'platform', 'notifications')).image as string;
    const { result, approvalId } = await approved('update_image', {
      service: 'notifications',
      env: 'prod',
      tag: '4.1.0',
    });
    expect(result.isError, text(result)).toBeFalsy();
    const out = sc(result).result as Obj;
    expect(out.outcome).toBe('rolled_back');
    // Both rollouts are signed in the revision history: day2 made them, for whom, under which approval.
    const causes = kube('prod')
      .store.list('apps/v1', 'ReplicaSet', 'platform')
      .filter((rs) => rs.metadata.name.startsWith('notifications-'))
      .map((rs) => rs.metadata.annotations?.['kubernetes.io/change-cause']);
    expect(causes).toEqual(
      expect.arrayContaining([
        `day2: update_image by agent-bot, approval ${approvalId}`,
        `day2: update_image (automatic rollback) by agent-bot, approval ${approvalId}`,
      ]),
    );
    expect(out.to).toBe(
      `registry.acme.test/shop/notifications:4.1.0@${digests.get('shop/notifications:4.1.0')}`,
    );
    expect(text(result)).toContain('ROLLED BACK');
    expect(container(deployment('prod', 'platform', 'notifications')).image).toBe(old);
    expect(out.image_now).toBe(old);
  });

  it('refuses to promote while the source env has active alerts, then promotes a healthy service', async () => {
    const refused = await call('promote_version', {
      service: 'notifications',
      from_env: 'staging',
      env: 'prod',
    });
    expect(refused.isError).toBe(true);
    expect(text(refused), text(refused)).toContain('active alert');

    const staging = container(deployment('staging', 'checkout', 'cart')).image as string;
    expect(container(deployment('prod', 'checkout', 'cart')).image).not.toBe(staging);
    const { result } = await approved('promote_version', {
      service: 'cart',
      from_env: 'staging',
      env: 'prod',
    });
    expect(result.isError, text(result)).toBeFalsy();
    expect(sc(result).result.outcome).toBe('rolled_out');
    const prodImage = container(deployment('prod', 'checkout', 'cart')).image as string;
    expect(prodImage.split('@')[1]).toBe(staging.split('@')[1]);
    expect((await auditOf('promote_version')).some((a) => a.event === 'tool.outcome' && a.outcome?.ok)).toBe(
      true,
    );
  });

  it('patch_report lists exactly the newer tags of the same major, classified, with digests and the update_image call to the newest patch', async () => {
    const r = await call('patch_report', { env: 'prod', service: 'web-frontend' });
    expect(r.isError, text(r)).toBeFalsy();
    const line = (sc(r).images as Obj[]).find((i) => i.container === 'web-frontend')!;
    expect(line.current).toBe('5.12.0');
    expect(line.newer.map((n: Obj) => [n.tag, n.change])).toEqual([
      ['5.13.0', 'minor'],
      ['5.12.1', 'patch'],
    ]);
    expect(line.proposed).toMatchObject({ tag: '5.12.1', change: 'patch' });
    expect(line.newer[0].digest).toBe(digests.get('shop/web-frontend:5.13.0'));
    expect(line.apply).toEqual(webFrontendUpdate());
    const withPre = await call('patch_report', {
      env: 'prod',
      service: 'web-frontend',
      include_prereleases: true,
      allow_major: true,
    });
    expect(((sc(withPre).images as Obj[])[0]!.newer as Obj[]).map((n) => n.tag)).toEqual([
      '6.0.0',
      '5.14.0-rc.1',
      '5.13.0',
      '5.12.1',
    ]);
  });
});

/** The update_image call patch_report proposes for prod web-frontend: the newest patch of its minor (5.12). */
const webFrontendUpdate = () => ({
  tool: 'update_image',
  arguments: {
    env: 'prod',
    namespace: 'storefront',
    deployment: 'web-frontend',
    container: 'web-frontend',
    tag: '5.12.1',
    digest: digests.get('shop/web-frontend:5.12.1'),
  },
});

describe('outdated images in the backlog', () => {
  it('lists the outdated prod web-frontend with the update_image call, and names envs without a registry', async () => {
    const r = await call('day2_backlog', { category: 'versions', format: 'items', limit: 100 });
    expect(r.isError, text(r)).toBeFalsy();
    const items = sc(r).items as Obj[];
    const web = items.find((i) => i.id === 'versions:prod:image:storefront/web-frontend/web-frontend')!;
    expect(web).toMatchObject({
      category: 'versions',
      env: 'prod',
      service: 'web-frontend',
      risk: 'low',
      fix: webFrontendUpdate(),
    });
    expect(web.title).toContain('5.13.0');
    expect(web.detail).toContain('newer: 5.13.0, 5.12.1');
    expect(web.owner).toBeTruthy();
    // The same finding patch_report makes, and nothing from an env whose registry nobody configured.
    const patch = sc(await call('patch_report', { env: 'prod', limit: 100 })).images as Obj[];
    const outdated = patch.filter((l) => l.apply).map((l) => `${l.namespace}/${l.deployment}/${l.container}`);
    expect(
      items
        .filter((i) => i.id.startsWith('versions:prod:image:') && i.fix)
        .map((i) => i.id.slice('versions:prod:image:'.length))
        .sort(),
    ).toEqual(outdated.sort());
    expect(items.some((i) => i.id.startsWith('versions:staging:image:'))).toBe(false);
    expect((sc(r).gaps as Obj[]).map((g) => g.reason).join('\n')).toMatch(
      /no registry configured for .*staging/,
    );
  });

  it('a registry that does not answer is a gap; the rest of the backlog still comes', async () => {
    const staging = h.sandbox.environments.staging!;
    staging.registry = { url: 'http://127.0.0.1:9', host: 'registry.acme.test' };
    try {
      const r = await call('day2_backlog', { category: 'versions', format: 'items', limit: 100 });
      expect(r.isError, text(r)).toBeFalsy();
      const gaps = sc(r).gaps as Obj[];
      expect(gaps.some((g) => g.backend === 'registry' && g.env === 'staging')).toBe(true);
      const items = sc(r).items as Obj[];
      expect(items.some((i) => i.id === 'versions:prod:image:storefront/web-frontend/web-frontend')).toBe(
        true,
      );
      // Asked for another category, the backlog does not scan registries at all.
      const other = await call('day2_backlog', { category: 'credentials', format: 'items', limit: 5 });
      expect(other.isError, text(other)).toBeFalsy();
      expect((sc(other).gaps as Obj[]).some((g) => g.backend === 'registry')).toBe(false);
      expect(Object.keys(sc(other).counts as Obj)).toEqual(['credentials']);
    } finally {
      delete staging.registry;
    }
  });

  it("a Kubernetes that does not answer is that environment's gap; the others' outdated images still come", async () => {
    const staging = h.sandbox.environments.staging!;
    staging.registry = { url: registry.url, host: 'registry.acme.test' };
    kube('staging').faults.add({ kind: 'status', status: 503 });
    try {
      const r = await call('day2_backlog', { category: 'versions', format: 'items', limit: 100 });
      expect(r.isError, text(r)).toBeFalsy();
      const gaps = sc(r).gaps as Obj[];
      expect(gaps.some((g) => g.backend === 'kubernetes' && g.env === 'staging')).toBe(true);
      const items = sc(r).items as Obj[];
      expect(items.some((i) => i.id === 'versions:prod:image:storefront/web-frontend/web-frontend')).toBe(
        true,
      );
    } finally {
      kube('staging').faults.clear();
      delete staging.registry;
    }
  });
});

describe('drift', () => {
  it('detects the hand-edited prod orders and remediates it with server-side apply', async () => {
    const found = await call('detect_drift', { env: 'prod', service: 'orders' });
    expect(found.isError, text(found)).toBeFalsy();
    const orders = (sc(found).objects as Obj[]).find((o) => o.object === 'Deployment checkout/orders')!;
    expect(orders.status).toBe('drifted');
    expect(orders.changes).toEqual(
      expect.arrayContaining([
        { path: 'spec.replicas', op: 'changed', desired: '3', live: '5' },
        {
          path: 'spec.template.spec.containers[name=orders].env[name=LOG_LEVEL].value',
          op: 'changed',
          desired: 'info',
          live: 'debug',
        },
      ]),
    );
    const all = await call('detect_drift', { env: 'prod' });
    expect(sc(all).counts.compared).toBeGreaterThan(10);

    // The hand edit is on record (metadata.managedFields): kubectl-edit owns the fields it changed,
    // so taking them back is a conflict the plan names, until the caller takes them over.
    const refused = await call('remediate_drift', { env: 'prod', objects: ['Deployment checkout/orders'] });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain('conflict with "kubectl-edit": .spec.replicas');
    const { result } = await approved('remediate_drift', {
      env: 'prod',
      objects: ['Deployment checkout/orders'],
      force_conflicts: true,
    });
    expect(result.isError, text(result)).toBeFalsy();
    const d = deployment('prod', 'checkout', 'orders');
    expect(d.spec.replicas).toBe(3);
    expect((container(d, 'orders').env as Obj[]).find((e) => e.name === 'LOG_LEVEL')!.value).toBe('info');
    expect(
      (d.metadata.managedFields as Obj[]).some((m) => m.manager === 'day2' && m.operation === 'Apply'),
    ).toBe(true);
    const again = await call('detect_drift', { env: 'prod', service: 'orders' });
    expect(sc(again).counts).toMatchObject({ drifted: 0, missing: 0 });
    expect((await auditOf('remediate_drift')).some((a) => a.event === 'tool.outcome' && a.outcome?.ok)).toBe(
      true,
    );
  });
});

describe('resources', () => {
  const podsOf = (env: string, ns: string, app: string) =>
    kube(env)
      .store.list('v1', 'Pod', ns)
      .filter((p) => p.metadata.name.startsWith(`${app}-`)) as Obj[];

  it('raises a memory limit after approval, watches the rollout, and every new pod carries it', async () => {
    const { result } = await approved('set_resources', {
      service: 'user-service',
      env: 'staging',
      limits: { memory: '1Gi' },
      reason: 'OOMKilled at 768Mi',
    });
    expect(result.isError, text(result)).toBeFalsy();
    expect(sc(result).result).toMatchObject({
      container: 'user-service',
      outcome: 'rolled_out',
      from: { limits: { memory: '768Mi' }, requests: { cpu: '250m' } },
      to: { limits: { memory: '1Gi' }, requests: { cpu: '250m' } },
    });
    const c = container(deployment('staging', 'identity', 'user-service'));
    expect(c.resources).toEqual({
      requests: { cpu: '250m', memory: '384Mi' },
      limits: { cpu: '500m', memory: '1Gi' },
    });
    const pods = podsOf('staging', 'identity', 'user-service');
    expect(pods.length).toBeGreaterThan(0);
    for (const p of pods) expect(p.spec.containers[0].resources.limits.memory).toBe('1Gi');
  });

  it('refuses bad quantities, a request over its limit and a full quota; the cluster sees no write', async () => {
    const writes = kube('staging').writes;
    const args = { service: 'shipping', env: 'staging' };
    const none = await call('set_resources', args);
    expect(none.isError).toBe(true);
    expect(text(none)).toContain('requests: give requests or limits');
    const bad = await call('set_resources', { ...args, requests: { cpu: 'lots' } });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain('requests.cpu: "lots" is not a positive Kubernetes quantity');
    const over = await call('set_resources', { ...args, requests: { memory: '2Gi' } });
    expect(over.isError).toBe(true);
    expect(text(over)).toContain('the request 2Gi would exceed the limit 512Mi');

    const quota = (used: string) =>
      kube('staging').store.put({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'compute', namespace: 'fulfillment' },
        spec: { hard: { 'requests.cpu': '1' } },
        status: { hard: { 'requests.cpu': '1' }, used: { 'requests.cpu': used } },
      });
    quota('900m');
    try {
      const full = await call('set_resources', { ...args, requests: { cpu: '500m' } });
      expect(full.isError).toBe(true);
      expect(text(full)).toMatch(/quota has no room: compute requests\.cpu used 900m of 1, needs 250m more/);
    } finally {
      quota('0');
    }
    expect(kube('staging').writes).toBe(writes);
  });

  it("cost_report's rightsizing finding carries the set_resources call, and that call plans", async () => {
    const report = sc(await call('cost_report', { env: 'prod' }));
    const finding = (report.rightsizing as Obj[]).find((r) => r.fix);
    expect(finding, JSON.stringify(report.rightsizing)).toBeDefined();
    expect(finding!.fix).toMatchObject({
      tool: 'set_resources',
      arguments: {
        env: 'prod',
        namespace: finding!.namespace,
        deployment: finding!.deployment,
        requests: finding!.suggested,
      },
    });
    const planned = await call(finding!.fix.tool, finding!.fix.arguments);
    expect(planned.isError, text(planned)).toBeFalsy();
    expect(sc(planned).status).toBe('approval_required');
    expect(sc(planned).summary).toContain(
      `requests cpu ${finding!.requests.cpu} → ${finding!.suggested.cpu}`,
    );
  });
});

describe('a target that changes between plan and execution', () => {
  it('refuses the approved token and the cluster sees no write from day2', async () => {
    const args = { service: 'inventory', env: 'prod', replicas: 4 };
    const first = await call('scale_deployment', args);
    const id = sc(first).approval_id as string;
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    const token = sc(await call('get_approval', { approval_id: id })).approval_token as string;
    // Someone edits the deployment after the approval.
    const live = deployment('prod', 'fulfillment', 'inventory');
    live.metadata.labels = { ...live.metadata.labels, 'edited-by': 'someone-else' };
    kube('prod').store.put(live as KubeObject);
    const writes = kube('prod').writes;
    const r = await call('scale_deployment', { ...args, approval_token: token });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('changed since approval');
    expect(kube('prod').writes).toBe(writes);
    expect(deployment('prod', 'fulfillment', 'inventory').spec.replicas).not.toBe(4);
  });

  it('turns a 409 at execution into "plan again", never a retry', async () => {
    const ctx: ExecuteContext = {
      action: { digest: 'test-action', approvers: [] },
      deps: h.rt.deps,
      principal: { id: 'agent-bot', transport: 'stdio' },
      signal: new AbortController().signal,
      progress: async () => {},
      callId: 't',
    };
    const args = { service: 'shipping', env: 'prod', replicas: 3 };
    const plan = await scaleDeployment.plan(args, ctx);
    const live = deployment('prod', 'fulfillment', 'shipping');
    live.metadata.labels = { ...live.metadata.labels, touched: 'yes' };
    kube('prod').store.put(live as KubeObject);
    const writes = kube('prod').writes;
    await expect(scaleDeployment.execute(args, ctx, actionable(plan))).rejects.toThrow(
      'the deployment changed since it was planned; call again without approval_token for a new plan',
    );
    expect(kube('prod').writes).toBe(writes);
  });
});
