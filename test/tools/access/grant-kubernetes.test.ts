import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ManualClock } from '../../../src/core/clock.js';
import { reapExpiredGrants, startAccessReaper } from '../../../src/tools/access/reaper.js';
import { GRANTS_COLLECTION, type AccessGrant } from '../../../src/tools/access/grant.js';
import { accessTools } from '../../../src/tools/access/index.js';
import { allTools } from '../../../src/tools/index.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RBAC = 'rbac.authorization.k8s.io/v1';
let h: SandboxHarness;
let clock: ManualClock;
let agent: Client;

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const sc = (r: CallToolResult) => r.structuredContent as Obj;
const kube = () => h.sandbox.emulators.kubernetes.prod!;
const binding = (ns: string, name: string) =>
  kube().store.get(RBAC, 'RoleBinding', ns, name) as Obj | undefined;

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await agent.callTool({ name, arguments: args })) as CallToolResult;
}

async function auditEvents(): Promise<Obj[]> {
  await h.rt.auditLog.flush();
  return (await h.rt.deps.store.queryAudit({ limit: 1000 })).map((r) => JSON.parse(r.record) as Obj);
}

/** Plans a grant, approves it as `approver` (CLI channel, with a reason) and executes it. */
async function grant(args: Record<string, unknown>, approver = 'bob'): Promise<CallToolResult> {
  const first = await call('grant_access', args);
  expect(first.isError, text(first)).toBeFalsy();
  const id = sc(first).approval_id as string;
  await h.rt.approvals.approve(id, approver, { channel: 'cli', reason: 'on-call lead approves' });
  const token = sc(await call('get_approval', { approval_id: id })).approval_token as string;
  return call('grant_access', { ...args, approval_token: token });
}

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  h = await startSandboxHarness({
    clock,
    alertmanager: false,
    extraTools: accessTools.filter((t) => !allTools.includes(t)),
  });
  agent = await h.connect('agent-bot');
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('a production grant, end to end', () => {
  const args = {
    principal: 'alice',
    env: 'prod',
    scope: 'payment-service',
    role: 'edit',
    duration: '2h',
    reason: 'INC-4711: inspect stuck payment workers',
  };
  let grantId: string;
  let bindingName: string;

  it('asks for approval, names the grantee as excluded, and refuses the grantee and the requester as approvers', async () => {
    const first = await call('grant_access', args);
    expect(first.isError, text(first)).toBeFalsy();
    expect(sc(first).status).toBe('approval_required');
    expect(sc(first).policy).toMatchObject({ rule: 'production-access-grant', distinct_approver: true });
    expect(sc(first).plan).toMatchObject({
      namespace: 'payments',
      role: { kind: 'Role' },
      excluded_approvers: ['alice'],
    });
    // A service grant covers the service's named objects, and the first line says which.
    expect(sc(first).summary).toMatch(
      /^grant alice edit on payment-service's objects only: Deployment payment-service; .*Secret payment-service-db/,
    );
    expect(sc(first).plan.not_covered).toMatch(/cannot select by label/);
    const id = sc(first).approval_id as string;
    await expect(h.rt.approvals.approve(id, 'alice', { channel: 'cli', reason: 'me' })).rejects.toMatchObject(
      { code: 'excluded_approver' },
    );
    await expect(
      h.rt.approvals.approve(id, 'agent-bot', { channel: 'cli', reason: 'me' }),
    ).rejects.toMatchObject({ code: 'self_approval' });
    // Nothing was created by planning (the plan's create was a dry run).
    expect(
      (kube().store.list(RBAC, 'RoleBinding', 'payments') as Obj[]).filter(
        (b) => b.metadata.labels?.['day2.dev/managed-by'] === 'day2',
      ),
    ).toEqual([]);
    const refusals = (await auditEvents()).filter(
      (e) => e.event === 'approval.approve.refused' && e.approval?.id === id,
    );
    expect(refusals.map((e) => e.approval.code).sort()).toEqual(['excluded_approver', 'self_approval']);
  });

  it('refuses a production grant longer than policy allows (8 h)', async () => {
    const r = await call('grant_access', { ...args, duration: '9h' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/at most 480 minutes/);
  });

  it('creates the RoleBinding with expiry, grantor and reason once someone else approves', async () => {
    const r = await grant(args);
    expect(r.isError, text(r)).toBeFalsy();
    const out = sc(r).result as Obj;
    grantId = out.grant_id as string;
    bindingName = out.binding as string;
    expect(out).toMatchObject({
      kind: 'kubernetes',
      namespace: 'payments',
      role: 'edit',
      approved_by: ['bob'],
    });
    expect(Date.parse(out.expires_at as string) - clock.now().getTime()).toBe(2 * 3_600_000);
    const rb = binding('payments', bindingName)!;
    expect(rb).toBeDefined();
    expect(rb.roleRef).toMatchObject({ kind: 'Role', name: bindingName });
    const role = kube().store.get(RBAC, 'Role', 'payments', bindingName) as Obj;
    expect(role.rules).toContainEqual(
      expect.objectContaining({
        resources: ['deployments', 'deployments/scale'],
        resourceNames: ['payment-service'],
      }),
    );
    expect(role.rules).toContainEqual(
      expect.objectContaining({
        resources: ['secrets'],
        resourceNames: ['payment-service-db', 'payment-service-env'],
      }),
    );
    for (const rule of role.rules as Obj[]) expect(rule.resourceNames.length).toBeGreaterThan(0);
    expect(rb.subjects).toEqual([expect.objectContaining({ kind: 'User', name: 'alice' })]);
    expect(rb.metadata.labels).toMatchObject({ 'day2.dev/managed-by': 'day2', 'day2.dev/grant-id': grantId });
    expect(rb.metadata.annotations).toMatchObject({
      'day2.dev/expires-at': out.expires_at,
      'day2.dev/granted-by': 'agent-bot',
      'day2.dev/approved-by': 'bob',
      'day2.dev/reason': args.reason,
      'day2.dev/grant-id': grantId,
    });
  });

  it('refuses a second identical grant while the first is active', async () => {
    const r = await call('grant_access', args);
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`already holds edit in prod/payments`);
  });

  it('lists the grant as active, and access_review shows it as time-bound, unused, next to the standing contractor admin', async () => {
    const list = await call('list_access_grants', { env: 'prod' });
    expect(list.isError, text(list)).toBeFalsy();
    expect(sc(list).grants).toEqual([
      expect.objectContaining({
        grant_id: grantId,
        principal: 'alice',
        status: 'active',
        approved_by: ['bob'],
      }),
    ]);

    const review = await call('access_review', {});
    expect(review.isError, text(review)).toBeFalsy();
    const o = sc(review);
    expect(o.envs).toEqual(['prod']);
    expect(o.privileged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          binding: 'contractor-admin',
          role: 'ClusterRole/admin',
          access: 'standing',
          made_by: 'unknown',
        }),
        expect.objectContaining({
          binding: bindingName,
          role: `Role/${bindingName}`,
          access: 'time_bound',
          made_by: 'day2',
        }),
      ]),
    );
    const contractor = (o.not_made_by_day2 as Obj[]).find((b) => b.binding === 'contractor-admin')!;
    expect(contractor.revoke_with).toEqual({
      tool: 'revoke_access',
      arguments: { env: 'prod', namespace: 'payments', binding: 'contractor-admin' },
    });
    expect((o.not_made_by_day2 as Obj[]).find((b) => b.binding === 'sre-oncall-view')?.made_by).toBe(
      'argocd',
    );
    // Made seconds ago: too new to call unused.
    expect(o.unused_grants).toEqual([]);
    expect(o.too_new_to_judge).toEqual([expect.objectContaining({ grant_id: grantId, principal: 'alice' })]);
    expect(o.counts.time_bound).toBe(1);
    clock.advance(31 * 60_000);
    const later = sc(await call('access_review', {}));
    expect(later.unused_grants).toEqual([expect.objectContaining({ grant_id: grantId, principal: 'alice' })]);
    expect(later.too_new_to_judge).toEqual([]);
  });

  it('no longer reports the grant as unused once alice makes a tool call', async () => {
    const alice = await h.connect('alice');
    await alice.callTool({ name: 'list_access_grants', arguments: { env: 'prod' } });
    const review = await call('access_review', {});
    expect(sc(review).unused_grants).toEqual([]);
  });

  it('leaves the grant alone before expiry, and the reaper revokes it at expiry with an audit record', async () => {
    clock.advance(2 * 3_600_000 - 31 * 60_000 - 60_000);
    expect((await reapExpiredGrants(h.rt.deps, h.rt.audit)).revoked).toEqual([]);
    expect(binding('payments', bindingName)).toBeDefined();

    clock.advance(2 * 60_000);
    const stop = startAccessReaper(h.rt, { intervalMs: 3_600_000 });
    await stop(); // waits for the first pass, which runs at once
    expect(binding('payments', bindingName)).toBeUndefined();
    const stored = (await h.rt.deps.store.getDoc<AccessGrant>(GRANTS_COLLECTION, grantId))!.value;
    expect(stored).toMatchObject({
      status: 'revoked',
      revoke_reason: 'expired',
      revoked_by: 'day2-access-reaper',
    });

    const events = await auditEvents();
    const granted = events.find(
      (e) => e.event === 'tool.outcome' && e.tool === 'grant_access' && e.outcome?.ok,
    );
    expect(granted?.targets).toEqual([
      expect.objectContaining({ kind: 'Role', name: bindingName, namespace: 'payments' }),
      expect.objectContaining({ kind: 'RoleBinding', name: bindingName, namespace: 'payments' }),
    ]);
    // The narrowed Role went with its binding.
    expect(kube().store.get(RBAC, 'Role', 'payments', bindingName)).toBeUndefined();
    const revoked = events.filter((e) => e.event === 'access.revoked' && e.detail?.grant_id === grantId);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({
      principal: 'day2-access-reaper',
      env: 'prod',
      detail: { grantee: 'alice', reason: 'expired', backend_removed: true },
    });

    const list = await call('list_access_grants', { env: 'prod', include_revoked: true });
    expect(sc(list).grants).toEqual([expect.objectContaining({ grant_id: grantId, status: 'revoked' })]);
  });
});

describe('grants outlive the store that recorded them', () => {
  it('reaps an expired day2 binding from its annotations when the store has no record of it', async () => {
    const r = await grant({
      principal: 'carol',
      env: 'prod',
      scope: 'platform',
      role: 'view',
      duration: '30m',
      reason: 'read dashboards config',
    });
    expect(r.isError, text(r)).toBeFalsy();
    const out = sc(r).result as Obj;
    // A new day2 process with an empty store: only the RoleBinding knows about the grant.
    await h.rt.deps.store.deleteDoc(GRANTS_COLLECTION, out.grant_id as string);
    const list = await call('list_access_grants', { env: 'prod', principal: 'carol' });
    expect(sc(list).grants).toEqual([
      expect.objectContaining({ grant_id: out.grant_id, status: 'expiring', role: 'view' }),
    ]);

    clock.advance(31 * 60_000);
    const res = await reapExpiredGrants(h.rt.deps, h.rt.audit);
    expect(res.revoked).toEqual([expect.objectContaining({ id: out.grant_id, principal: 'carol' })]);
    expect(binding('platform', out.binding as string)).toBeUndefined();
  });
});

describe('revoke_access', () => {
  it('revokes a grant early after approval, and deletes a binding day2 did not make', async () => {
    const g = await grant({
      principal: 'dave',
      env: 'prod',
      scope: 'checkout',
      role: 'view',
      duration: '1h',
      reason: 'look at orders rollout',
    });
    const out = sc(g).result as Obj;
    const first = await call('revoke_access', { env: 'prod', grant_id: out.grant_id });
    expect(sc(first).status, text(first)).toBe('approval_required');
    await h.rt.approvals.approve(sc(first).approval_id as string, 'bob', { channel: 'cli' });
    const token = sc(await call('get_approval', { approval_id: sc(first).approval_id }))
      .approval_token as string;
    const done = await call('revoke_access', { env: 'prod', grant_id: out.grant_id, approval_token: token });
    expect(done.isError, text(done)).toBeFalsy();
    expect(sc(done).result).toMatchObject({ grant_id: out.grant_id, principal: 'dave', removed: true });
    expect(binding('checkout', out.binding as string)).toBeUndefined();

    const plan = await call('revoke_access', {
      env: 'prod',
      namespace: 'payments',
      binding: 'contractor-admin',
      dry_run: true,
    });
    expect(plan.isError, text(plan)).toBeFalsy();
    expect(sc(plan).plan).toMatchObject({ made_by_day2: false });
    expect(binding('payments', 'contractor-admin')).toBeDefined();
  });
});
