import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageWithoutDigest, type FleetDeployment } from '../../../src/sandbox/fleet-schema.js';
import { builtinFleetPath } from '../../../src/sandbox/load-fleet.js';
import type { ChangesPage } from '../../../src/tools/context/changes/page.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

/**
 * The change ledger through a real MCP client, on the demo fleet and on the mini fleet: nothing here
 * names a service or an environment; each fleet's production environment and its most recently
 * deployed service with a history are found from the fleet itself. The rollback is day2's, made
 * with a human's approval, and afterwards list_changes, day2://changes/{env} and triage tell the
 * same story: who deployed what outside day2, what day2 did, for whom, under which approval.
 */

type Page = ChangesPage;

const FLEETS = [
  { name: 'demo', path: builtinFleetPath() },
  { name: 'mini', path: fileURLToPath(new URL('../../fixtures/fleets/mini.yaml', import.meta.url)) },
];

/** `name:tag` of an image reference, as the ledger shows versions. */
const tag = (image: string) => imageWithoutDigest(image).split('/').at(-1)!;

describe.each(FLEETS)('the change ledger on the $name fleet', ({ path }) => {
  let h: SandboxHarness;
  let agent: Client;
  let env: string;
  let service: string;
  let d: FleetDeployment;
  let approvalId: string;

  async function call(client: Client, name: string, args: Record<string, unknown>) {
    const res = (await client.callTool({ name, arguments: args })) as CallToolResult;
    const text = (res.content[0] as { text: string }).text;
    expect(res.isError ?? false, text).toBe(false);
    return { sc: res.structuredContent as Record<string, unknown>, text };
  }
  const changes = async (args: Record<string, unknown>) => {
    const r = await call(agent, 'list_changes', { env, ...args });
    return { page: r.sc as unknown as Page, text: r.text };
  };

  beforeAll(async () => {
    h = await startSandboxHarness({ fleet: path, config: { backends: { timeout: 10_000, retries: 0 } } });
    agent = await h.connect('agent-bot');
    const fleet = h.sandbox.fleet.fleet;
    env = Object.entries(fleet.environments).find(([, e]) => e.tier === 'production')![0];
    // The service whose latest rollout is the most recent one with a revision before it.
    d = fleet.environments[env]!.deployments.filter((x) => x.history.length > 0).sort(
      (a, b) => b.deployed.getTime() - a.deployed.getTime(),
    )[0]!;
    service = h.sandbox.catalog.serviceForWorkload(env, d.namespace, d.name)!.id;
  }, 60_000);
  afterAll(async () => h?.close());

  it('before day2 touches anything: the latest rollout, made outside day2, with who made it', async () => {
    const { page, text } = await changes({});
    const mine = page.changes.find((c) => c.kind === 'rollout' && c.revision === d.revision)!;
    expect(mine, text).toBeDefined();
    expect(mine).toMatchObject({
      service,
      day2: false,
      current: true,
      to: tag(d.image),
      from: tag(d.history[0]!.image),
      by_how: 'managedFields',
    });
    expect(mine.by).not.toBe('unknown');
    expect(page.gaps).toEqual([]);
  });

  it("after day2's approved rollback: the outside deploy, day2's rollback with requester, approvers and approval id, in one call under 8 KB", async () => {
    const planned = await call(agent, 'rollback_deployment', { service, env, reason: 'ledger test' });
    approvalId = planned.sc.approval_id as string;
    expect(planned.sc.status).toBe('approval_required');
    await h.rt.approvals.approve(approvalId, 'alice', { channel: 'cli' });
    const token = (await call(agent, 'get_approval', { approval_id: approvalId })).sc.approval_token;
    const done = await call(agent, 'rollback_deployment', {
      service,
      env,
      reason: 'ledger test',
      approval_token: token,
    });
    expect(done.sc.status).toBe('executed');

    // The outcome record joins the audit log's next group commit, just after the call returns.
    let { page, text } = await changes({});
    for (
      let i = 0;
      i < 50 && !page.changes.some((c) => c.approval_id === approvalId && c.outcome === 'ok');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
      ({ page, text } = await changes({}));
    }
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(8192);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(8192);
    const rollback = page.changes.find((c) => c.kind === 'rollout' && c.revision === d.revision + 1)!;
    expect(rollback, text).toMatchObject({
      service,
      day2: true,
      by: 'agent-bot',
      by_how: 'audit',
      tool: 'rollback_deployment',
      approval_id: approvalId,
      approvers: ['alice'],
      outcome: 'ok',
      current: true,
      from: tag(d.image),
      to: tag(d.history[0]!.image),
    });
    // day2's write is that rollout, not a second change beside it.
    // One change for the rollback, and the hold it placed on the version it rolled back from.
    expect(page.changes.filter((c) => c.approval_id === approvalId).map((c) => c.kind)).toEqual(
      expect.arrayContaining(['hold']),
    );
    expect(page.changes.filter((c) => c.approval_id === approvalId && c.kind !== 'hold')).toHaveLength(1);
    const outside = page.changes.find((c) => c.kind === 'rollout' && c.revision === d.revision)!;
    expect(outside).toMatchObject({ day2: false, from: tag(d.history[0]!.image), to: tag(d.image) });
    // Who made it is what the cluster still says: its field manager is gone with the template it
    // owned, so the change-cause's author or the managed-by label, else honestly unknown.
    expect(outside.by).not.toBe('agent-bot');
    // A model reading only the text gets the same answer.
    expect(text).toContain(
      `by agent-bot via day2 rollback_deployment, approval ${approvalId} approved by alice`,
    );
    expect(text).toContain(`${d.name} revision ${d.revision}: ${tag(d.history[0]!.image)} → ${tag(d.image)}`);

    // The rollout history itself says so, for kubectl users too.
    const rs = h.sandbox.emulators.kubernetes[env]!.store.list('apps/v1', 'ReplicaSet', d.namespace).filter(
      (r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === String(d.revision + 1),
    )[0]!;
    expect(rs.metadata.annotations).toMatchObject({
      'kubernetes.io/change-cause': `day2: rollback_deployment by agent-bot, approval ${approvalId}`,
      'day2.dev/approval-id': approvalId,
    });
  });

  it('triage reads the same history: the rolled-back revision from what ran before it, the new one as day2s', async () => {
    const { sc } = await call(agent, 'triage_service', { service, env });
    const rollouts = sc.rollouts as {
      revision: number;
      image: string;
      previous_image?: string;
      by?: string;
      day2?: boolean;
    }[];
    const before = rollouts.find((r) => r.revision === d.revision)!;
    expect(before.previous_image).toBe(d.history[0]!.image);
    expect(before.day2).toBe(false);
    const after = rollouts.find((r) => r.revision === d.revision + 1)!;
    expect(after).toMatchObject({ day2: true, by: 'agent-bot', previous_image: d.image });
    const findings = sc.findings as { kind: string; title: string }[];
    expect(findings.map((f) => f.title).join('\n')).toContain(`revision ${d.revision} rolled out at`);
    expect(findings.find((f) => f.title.includes(`revision ${d.revision} `))!.title).toContain(
      `${tag(d.history[0]!.image)} → ${tag(d.image)}`,
    );
    expect(
      findings.find((f) => f.kind === 'day2_change' && f.title.includes('rollback_deployment'))!.title,
    ).toContain(`approval ${approvalId}`);
  });

  it('pages with a cursor: every change once, in order, totals and what is left said in the text', async () => {
    const first = (await changes({ since: '60d' })).page;
    expect(first.total).toBeGreaterThanOrEqual(3);
    // However many there are, a page stays within its byte budget; the cursor covers the rest.
    expect(Buffer.byteLength(JSON.stringify(first))).toBeLessThanOrEqual(8192);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { page, text } = await changes(cursor ? { cursor } : { since: '60d' });
      expect(page.total).toBe(first.total);
      seen.push(...page.changes.map((c) => c.id));
      if (page.next_cursor) {
        expect(page.remaining).toBe(first.total - seen.length);
        expect(text).toContain(`${page.remaining} older change(s) left out`);
        expect(text).toContain(page.next_cursor);
      } else expect(page.remaining).toBe(0);
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen).toHaveLength(first.total);
    expect(new Set(seen).size).toBe(first.total);
    expect(seen.slice(0, first.changes.length)).toEqual(first.changes.map((c) => c.id));
    // The demo fleet's prod has more than a page of changes in 60 days; the mini fleet fits in one.
    expect(pages > 1).toBe(first.total > first.changes.length);
    const kinds = (await changes({ since: '60d', kinds: ['day2'] })).page;
    expect(kinds.changes.length).toBeGreaterThan(0);
    expect(kinds.changes.every((c) => c.day2 && c.tool)).toBe(true);
    const one = (await changes({ since: '60d', service })).page;
    expect(one.changes.every((c) => c.service === service)).toBe(true);
  });

  it('day2://changes/{env} reads the same as list_changes', async () => {
    const res = await agent.readResource({ uri: `day2://changes/${env}` });
    const json = JSON.parse((res.contents[0] as { text: string }).text) as Page;
    const { page } = await changes({});
    expect(json).toEqual(page);
  });

  it("day2://metrics counts as outside changes exactly the ledger's rollouts, silences and downtimes not made by day2", async () => {
    const kinds = ['rollout', 'silence', 'downtime'];
    const outside = new Set<string>();
    for (const e of Object.keys(h.sandbox.fleet.fleet.environments)) {
      let cursor: string | undefined;
      let pages = 0;
      do {
        const { sc } = await call(
          agent,
          'list_changes',
          // A next page is the same call with the cursor: the cursor is bound to env, service and kinds.
          { env: e, kinds, ...(cursor ? { cursor } : { since: '30d' }) },
        );
        const page = sc as unknown as Page;
        // One Alertmanager or Datadog can serve several environments: the same object once.
        for (const c of page.changes) if (!c.day2) outside.add(c.id);
        cursor = page.next_cursor;
      } while (cursor && ++pages < 100);
    }
    expect(outside.size).toBeGreaterThan(0);
    const res = await agent.readResource({ uri: 'day2://metrics' });
    const m = JSON.parse((res.contents[0] as { text: string }).text) as Record<string, { sample: number }>;
    // self-service share's sample is day2's writes plus the outside changes; proactive share's is day2's writes.
    expect(m.self_service_share!.sample - m.proactive_share!.sample).toBe(outside.size);
  });
});

describe('the change ledger on the demo fleet: hand edits', () => {
  let h: SandboxHarness;
  beforeAll(async () => {
    h = await startSandboxHarness();
  }, 60_000);
  afterAll(async () => h?.close());

  it('lists the hand edit of prod orders as drift from git, by the field manager that made it', async () => {
    const client = await h.connect('agent-bot');
    const res = (await client.callTool({
      name: 'list_changes',
      arguments: { env: 'prod', since: '3d', kinds: ['edit', 'rollout'] },
    })) as CallToolResult;
    const page = res.structuredContent as unknown as Page;
    const edit = page.changes.find((c) => c.kind === 'edit' && c.service === 'orders')!;
    expect(edit).toMatchObject({ by: 'kubectl-edit', by_how: 'managedFields', day2: false });
    expect(edit.what).toContain('spec.replicas 3 → 5');
    expect(edit.what).toContain('orders env[LOG_LEVEL].value info → debug');
    const deploy = page.changes.find((c) => c.kind === 'rollout' && c.service === 'checkout')!;
    expect(deploy).toMatchObject({
      revision: 14,
      by: 'argocd-controller',
      from: 'checkout:2.7.3',
      to: 'checkout:2.8.0',
    });
  });
});
