import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { accessTools } from '../../../src/tools/access/index.js';
import { allTools } from '../../../src/tools/index.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NORTH = fileURLToPath(new URL('../../fixtures/fleets/north.yaml', import.meta.url));
const RBAC = 'rbac.authorization.k8s.io/v1';

let h: SandboxHarness;
let clock: ManualClock;
let agent: Client;

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const sc = (r: CallToolResult) => r.structuredContent as Obj;
const kube = () => h.sandbox.emulators.kubernetes.live!;
const rbacWrites = () =>
  ['Role', 'RoleBinding'].flatMap((kind) =>
    (kube().store.list(RBAC, kind, 'team-billing') as Obj[]).filter(
      (o) => o.metadata.labels?.['day2.dev/managed-by'] === 'day2',
    ),
  );
const call = async (name: string, args: Record<string, unknown>) =>
  (await agent.callTool({ name, arguments: args })) as CallToolResult;

async function approveAndRun(args: Record<string, unknown>): Promise<CallToolResult> {
  const first = await call('grant_access', args);
  expect(first.isError, text(first)).toBeFalsy();
  await h.rt.approvals.approve(sc(first).approval_id as string, 'kim', { channel: 'cli', reason: 'ok' });
  const token = sc(await call('get_approval', { approval_id: sc(first).approval_id }))
    .approval_token as string;
  return call('grant_access', { ...args, approval_token: token });
}

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  h = await startSandboxHarness({
    clock,
    fleet: NORTH,
    alertmanager: false,
    extraTools: accessTools.filter((t) => !allTools.includes(t)),
  });
  agent = await h.connect('agent-bot');
}, 120_000);
afterAll(async () => h?.close());

describe('grant scope and access review on the north fleet (envs live and qa)', () => {
  const base = {
    principal: 'lee',
    env: 'live',
    role: 'edit',
    duration: '1h',
    reason: 'BILL-88: tax rounding',
  };

  it('a service grant is narrowed to the service’s named objects, and says in its first line what it leaves out', async () => {
    const planned = await call('grant_access', { ...base, scope: 'billing-api' });
    expect(planned.isError, text(planned)).toBeFalsy();
    const summary = sc(planned).summary as string;
    expect(summary).toMatch(
      /^grant lee edit on billing-api's objects only: Deployment billing-api; Service billing-api; Secret billing-api-db \(get, watch, update, patch\)/,
    );
    expect(sc(planned).plan.not_covered).toMatch(
      /not its pods.*cannot select by label.*namespace:team-billing/,
    );
    // Planned, not approved: the cluster saw no write.
    expect(rbacWrites()).toEqual([]);

    const done = await approveAndRun({ ...base, scope: 'billing-api' });
    expect(done.isError, text(done)).toBeFalsy();
    const out = sc(done).result as Obj;
    expect(text(done)).toContain(`only the objects of Role ${out.binding as string}`);
    const role = kube().store.get(RBAC, 'Role', 'team-billing', out.binding as string) as Obj;
    const named = (role.rules as Obj[]).map((r) => [r.resources.join('+'), r.resourceNames.join('+')]);
    expect(named).toEqual([
      ['deployments+deployments/scale', 'billing-api'],
      ['services', 'billing-api'],
      ['secrets', 'billing-api-db'],
    ]);
    const rb = kube().store.get(RBAC, 'RoleBinding', 'team-billing', out.binding as string) as Obj;
    expect(rb.roleRef).toMatchObject({ kind: 'Role', name: out.binding });
  });

  it('a namespace grant says in its first line that it covers every object in the namespace', async () => {
    const planned = await call('grant_access', {
      ...base,
      principal: 'sam',
      scope: 'namespace:team-billing',
    });
    expect(sc(planned).summary).toMatch(
      /^grant sam edit on every object in namespace live\/team-billing \(the whole namespace, as asked\)/,
    );
    expect(sc(planned).plan).toMatchObject({ cluster_role: 'edit' });
    const unknown = await call('grant_access', { ...base, scope: 'namespace:team-nowhere' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/^scope: "namespace:team-nowhere" is neither/);
  });

  it('access_review gives a fresh grant a grace period and lists the sources it read', async () => {
    // A cluster-wide admin someone made by hand, and the cluster's own plumbing, which is not access.
    for (const [name, role] of [
      ['breakglass-admin', 'cluster-admin'],
      ['system:kube-scheduler', 'system:kube-scheduler'],
    ] as const)
      kube().store.put({
        apiVersion: RBAC,
        kind: 'ClusterRoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'User', name: 'ops.lead@northwind.test', apiGroup: 'rbac.authorization.k8s.io' }],
      });
    const now = sc(await call('access_review', { env: 'live' }));
    expect(now.not_made_by_day2).toContainEqual(
      expect.objectContaining({
        namespace: '*',
        binding: 'breakglass-admin',
        role: 'ClusterRole/cluster-admin',
      }),
    );
    expect(JSON.stringify(now)).not.toContain('system:kube-scheduler');
    expect(now.too_new_to_judge).toEqual([expect.objectContaining({ principal: 'lee' })]);
    expect(now.unused_grants).toEqual([]);
    expect((now.sources as Obj[]).map((s) => s.source)).toEqual([
      'RoleBindings',
      'ClusterRoleBindings',
      'database roles',
      'day2 grants',
    ]);
    expect((now.sources as Obj[])[0]).toMatchObject({ read: ['live: team-billing, team-ops'] });
    expect((now.sources as Obj[])[1]).toMatchObject({ read: ['live'], found: 1 });
    // The standing auditor-admin binding is found and, like the narrowed edit grant, privileged.
    expect((now.privileged as Obj[]).map((b) => b.binding)).toEqual(
      expect.arrayContaining([
        'auditor-admin',
        'breakglass-admin',
        expect.stringMatching(/^day2-edit-billing-api-lee-/),
      ]),
    );
    const review = await call('access_review', { env: 'live' });
    expect(text(review)).toMatch(/not judged yet: g-\w+ lee/);
    expect(text(review)).toMatch(
      /Read: RoleBindings \(live: team-billing, team-ops: \d+\); ClusterRoleBindings/,
    );

    clock.advance(31 * 60_000);
    const later = sc(await call('access_review', { env: 'live' }));
    expect(later.unused_grants).toEqual([expect.objectContaining({ principal: 'lee' })]);
    expect(later.too_new_to_judge).toEqual([]);
  });
});
