import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';
import { startTestRegistry, type RegistryProcess } from '../../fixtures/registry.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Holds on known-bad versions, through a real MCP client on the demo sandbox: once prod checkout
 * is rolled back from 2.8.0, no tool offers 2.8.0 again there, drift says why it is expected,
 * and only an explicit override (which the approver sees) or a governed release lifts that.
 */
let h: SandboxHarness;
let agent: Client;
let registry: RegistryProcess;

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const sc = (r: CallToolResult) => r.structuredContent as Obj;
const call = async (name: string, args: Record<string, unknown>) =>
  (await agent.callTool({ name, arguments: args })) as CallToolResult;

async function approved(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const first = await call(name, args);
  expect(first.isError, text(first)).toBeFalsy();
  expect(sc(first).status, text(first)).toBe('approval_required');
  const id = sc(first).approval_id as string;
  await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
  const token = sc(await call('get_approval', { approval_id: id })).approval_token as string;
  return call(name, { ...args, approval_token: token });
}

beforeAll(async () => {
  ({ registry } = await startTestRegistry({ 'shop/checkout': ['2.7.2', '2.7.3', '2.8.0'] }));
  h = await startSandboxHarness({ config: { backends: { timeout: 20_000 } } });
  // The registry of prod, as deploys.test.ts sets it: refs name registry.acme.test, the API is on loopback.
  h.sandbox.environments.prod!.registry = { url: registry.url, host: 'registry.acme.test' };
  agent = await h.connect('agent-bot');
}, 120_000);

afterAll(async () => {
  await h?.close();
  await registry?.close();
});

describe('a rollback holds the version it rolled back from', () => {
  let holdId: string;

  it('rollback_deployment records the hold and says so in its text', async () => {
    const done = await approved('rollback_deployment', {
      service: 'checkout',
      env: 'prod',
      revision: 13,
      reason: 'CheckoutHighErrorRate after 2.8.0',
    });
    expect(done.isError, text(done)).toBeFalsy();
    const holds = sc(done).result.holds as Obj[];
    expect(holds).toHaveLength(1);
    expect(holds[0]).toMatchObject({ env: 'prod', service: 'checkout', held_by: 'agent-bot' });
    expect(holds[0]!.image).toMatch(/checkout:2\.8\.0@sha256:/);
    expect(holds[0]!.origin).toMatch(/^rollback apr_/);
    holdId = holds[0]!.id as string;
    expect(text(done)).toContain(`Held checkout:2.8.0 (${holdId})`);
  }, 60_000);

  it('the change ledger lists the hold', async () => {
    const r = await call('list_changes', { env: 'prod', service: 'checkout', kinds: ['hold'] });
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toMatch(/held checkout:2\.8\.0 \(hold_\w+\) since rollback apr_/);
  });

  it('get_service lists the hold', async () => {
    const r = await call('get_service', { service: 'checkout', env: 'prod' });
    expect(sc(r).holds.map((x: Obj) => x.id)).toEqual([holdId]);
    expect(text(r)).toMatch(
      /held, not offered by any tool: checkout:2\.8\.0 is held in prod since rollback apr_/,
    );
  });

  it('detect_drift shows the desired state copy of 2.8.0 as expected drift', async () => {
    const r = await call('detect_drift', { env: 'prod', service: 'checkout', kind: 'Deployment' });
    expect(r.isError, text(r)).toBeFalsy();
    const o = (sc(r).objects as Obj[]).find((x) => x.object === 'Deployment checkout/checkout')!;
    expect(o.status).toBe('drifted');
    expect(o.expected).toMatch(
      /^expected: checkout:2\.8\.0 is held in prod since rollback apr_.*update the desired state/,
    );
    expect(sc(r).counts.expected).toBe(1);
    expect(text(r)).toContain('(1 expected: held versions)');
  });

  it('remediate_drift leaves the held object alone unless override_hold is in the request', async () => {
    const plain = await call('remediate_drift', {
      env: 'prod',
      objects: ['Deployment checkout/checkout'],
    });
    expect(sc(plain).status).toBe('refused');
    expect(text(plain)).toMatch(/checkout:2\.8\.0 is held in prod.*override_hold: true/);

    const whole = await call('remediate_drift', { env: 'prod', service: 'checkout' });
    // The whole service: the held Deployment is left out of what would be applied, and the answer says why.
    expect(sc(whole).status).toBe('refused');
    expect((sc(whole).plan.objects as Obj[]).map((o) => o.object)).not.toContain(
      'Deployment checkout/checkout',
    );
    expect(sc(whole).plan.skipped_held).toEqual([
      expect.stringMatching(/^Deployment checkout\/checkout: expected: checkout:2\.8\.0 is held in prod/),
    ]);
    expect(text(whole)).toMatch(
      /^remediate_drift refused: nothing to remediate: Deployment checkout\/checkout: expected:/,
    );
    expect(sc(whole).summary).toBe(
      'nothing to apply in prod; leaves 1 held object(s) alone (Deployment checkout/checkout)',
    );

    const forced = await call('remediate_drift', {
      env: 'prod',
      objects: ['Deployment checkout/checkout'],
      override_hold: true,
    });
    expect(sc(forced).status).toBe('approval_required');
    // The approver reads that the hold is overridden.
    expect(sc(forced).summary ?? text(forced)).toMatch(/OVERRIDES 1 hold/);
    expect(JSON.stringify(sc(forced).plan)).toContain('overrides_hold');
  });

  it('update_image and promote_version refuse the held version; patch_report and the backlog never offer it', async () => {
    const upd = await call('update_image', { service: 'checkout', env: 'prod', tag: '2.8.0' });
    expect(sc(upd).status).toBe('refused');
    expect(text(upd)).toMatch(/checkout:2\.8\.0 is held in prod since rollback apr_.*release_hold/);
    const over = await call('update_image', {
      service: 'checkout',
      env: 'prod',
      tag: '2.8.0',
      override_hold: true,
    });
    expect(sc(over).status).toBe('approval_required');
    expect(JSON.stringify(sc(over).plan)).toContain('overrides_hold');

    // Staging still runs 2.8.0: promoting it to prod is refused for the hold, before anything
    // about staging's alerts (no force makes a held version safe).
    const promote = await call('promote_version', { service: 'checkout', from_env: 'staging', env: 'prod' });
    expect(sc(promote).status).toBe('refused');
    expect(text(promote)).toMatch(/checkout:2\.8\.0 is held in prod since rollback apr_/);

    const patch = await call('patch_report', { env: 'prod', service: 'checkout' });
    expect(patch.isError, text(patch)).toBeFalsy();
    // The registry was read: the answer below is about its tags, not about a gap.
    expect(sc(patch).gaps).toEqual([]);
    const line = (sc(patch).images as Obj[]).find((l) => l.service === 'checkout')!;
    // 2.8.0 is the only tag newer than 2.7.3 in the registry: nothing is offered, and the text says why.
    expect(line.newer).toEqual([]);
    expect(line.apply).toBeUndefined();
    expect(line.held).toEqual([
      expect.stringMatching(/^checkout:2\.8\.0 is held in prod since rollback apr_/),
    ]);
    expect(text(patch)).toMatch(/checkout\/checkout 2\.7\.3; not offered: checkout:2\.8\.0 is held in prod/);
    expect(JSON.stringify(sc(patch))).not.toMatch(/"tag":"2\.8\.0"/);

    const backlog = await call('day2_backlog', { env: 'prod', format: 'items', limit: 100 });
    expect(backlog.isError, text(backlog)).toBeFalsy();
    const items = (sc(backlog).items ?? []) as Obj[];
    const offers = items.filter(
      (i) =>
        i.service === 'checkout' &&
        i.fix &&
        /2\.8\.0|checkout\/checkout/.test(JSON.stringify(i.fix.arguments)),
    );
    expect(offers).toEqual([]);
    const skew = items.find((i) => i.id === 'versions:prod:checkout');
    expect(skew?.fix).toBeUndefined();
    expect(skew?.action).toMatch(/^no promotion offered: checkout:2\.8\.0 is held in prod/);
    const drift = items.find((i) => i.id === 'drift:prod:Deployment checkout/checkout');
    expect(drift?.title).toMatch(/held version/);
    expect(drift?.action).toMatch(/remediate_drift would put it back/);
  }, 60_000);

  it('release_hold is a governed write; afterwards the version may be offered again', async () => {
    const unknown = await call('release_hold', { env: 'prod', hold_id: 'hold_nope', reason: 'fixed' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain(`hold_id: no hold hold_nope in prod; holds in force: ${holdId}`);

    const released = await approved('release_hold', {
      env: 'prod',
      hold_id: holdId,
      reason: '2.8.0 fixed by config change',
    });
    expect(released.isError, text(released)).toBeFalsy();
    expect(sc(released).result.released_by).toBe('agent-bot');
    const upd = await call('update_image', { service: 'checkout', env: 'prod', tag: '2.8.0' });
    expect(sc(upd).status).toBe('approval_required');
    const svc = await call('get_service', { service: 'checkout', env: 'prod' });
    expect(sc(svc).holds).toEqual([]);
    const ledger = await call('list_changes', { env: 'prod', kinds: ['hold'] });
    expect(text(ledger)).toContain(
      `released the hold on checkout:2.8.0 (${holdId}): 2.8.0 fixed by config change`,
    );
  }, 60_000);
});

describe('an incident resolved with a bad version named holds it', () => {
  it('refuses a version the deployment never ran, before resolving; holds a real one', async () => {
    const opened = await call('open_incident', {
      service: 'checkout',
      env: 'staging',
      title: 'checkout errors',
      severity: 'sev3',
    });
    expect(opened.isError, text(opened)).toBeFalsy();
    const id = (sc(opened).incident as Obj).id as string;
    const wrong = await call('resolve_incident', {
      incident_id: id,
      resolution: 'rolled back',
      bad_version: '9.9.9',
    });
    expect(wrong.isError).toBe(true);
    expect(text(wrong)).toMatch(
      /^bad_version: checkout\/checkout in staging never ran "9\.9\.9"; its history has /,
    );
    // Nothing half-done: the incident is still open.
    const still = await call('update_incident', { incident_id: id, note: 'still open?' });
    expect((sc(still).incident as Obj).status).not.toBe('resolved');

    const running = (sc(await call('get_service', { service: 'checkout', env: 'staging' })).deployment as Obj)
      .version as string;
    const ok = await call('resolve_incident', {
      incident_id: id,
      resolution: 'rolled back',
      bad_version: running,
    });
    expect(ok.isError, text(ok)).toBeFalsy();
    expect(sc(ok).hold).toMatchObject({ env: 'staging', service: 'checkout', origin: `incident ${id}` });
    expect(text(ok)).toContain(`Held checkout:${running} in staging`);
  }, 60_000);
});
