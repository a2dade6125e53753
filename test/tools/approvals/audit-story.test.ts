import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type TestHarness } from '../../fixtures/in-memory-runtime.js';
import { allAudit } from '../../fixtures/audit-records.js';
import { verifyAudit } from '../../../src/guards/audit-verify.js';
import type { AuditAction } from '../../../src/tools/approvals/audit-actions.js';
import { main } from '../../../src/cli/main.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

// Issue 16 item 5: the audit log tells the story. A refused call is `tool.refused` with its
// reason, `tool.execute` appears only once a write really runs, and search_audit gives one line
// per action (request, approvals, execution and outcome joined).

const ARGS = { env: 'staging', target: 'cfg', value: 'v2' };
const text = (r: CallToolResult) => (r.content as { text: string }[])[0]?.text ?? '';

let h: TestHarness;
afterEach(async () => h?.close());

async function call(client: Client, name: string, args: Record<string, unknown>) {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

async function search(client: Client, args: Record<string, unknown> = {}) {
  const r = await call(client, 'search_audit', args);
  expect(r.isError, text(r)).toBeFalsy();
  return {
    text: text(r),
    ...(r.structuredContent as { actions: AuditAction[]; total?: number; next_cursor?: string }),
  };
}

describe('an audit that tells the story', () => {
  it('records refusals as tool.refused with why, and tool.execute only for the write that ran', async () => {
    h = await startHarness({
      policy: {
        rules: [
          {
            id: 'no-prod-test-writes-by-bots',
            match: { tool: 'test_write', tier: 'production', principal: 'agent-bot' },
            decision: 'deny',
            reason: 'bots do not write to production',
          },
        ],
      },
    });
    const agent = await h.connect('agent-bot');

    const asked = await call(agent, 'test_write', ARGS);
    const id = (asked.structuredContent as { approval_id: string }).approval_id;
    // Redeemed before anyone approved it: refused, and nothing runs.
    const early = await call(agent, 'test_write', { ...ARGS, approval_id: id });
    expect(early.isError).toBe(true);
    // Denied by policy.
    const denied = await call(agent, 'test_write', { ...ARGS, env: 'prod' });
    expect(denied.isError).toBe(true);
    expect(h.backend.writes).toEqual([]);

    await h.rt.approvals.approve(id, 'alice', { channel: 'cli', reason: 'looks right' });
    const done = await call(agent, 'test_write', { ...ARGS, approval_id: id });
    expect(done.isError, text(done)).toBeFalsy();
    expect(h.backend.writes).toHaveLength(1);

    await h.rt.auditLog.flush();
    const events = (await allAudit(h.rt.deps.store)).filter((e) => e.tool === 'test_write');
    const refused = events.filter((e) => e.event === 'tool.refused');
    expect(refused.map((e) => e.outcome?.error)).toEqual(['approval_not_approved', 'policy_denied']);
    expect((refused[0]!.detail as { why: string }).why).toMatch(/not approved yet/);
    expect((refused[1]!.detail as { why: string }).why).toMatch(/bots do not write to production/);
    // Exactly one execution: the write that ran, under the approval it redeemed.
    const executes = events.filter((e) => e.event === 'tool.execute');
    expect(executes).toHaveLength(1);
    expect(executes[0]).toMatchObject({ approval: { id } });
    // Every record of one call carries the call's id.
    const exec = executes[0]!;
    expect(events.filter((e) => e.call === exec.call).map((e) => e.event)).toEqual([
      'tool.execute',
      'tool.outcome',
    ]);
    expect(await verifyAudit(h.rt.deps.store)).toMatchObject({ ok: true });
  });

  it('search_audit answers one line per action: when, tool, target, requester, approvers, outcome, summary', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const other = await h.connect('agent-two');
    await call(agent, 'get_approval', { approval_id: 'apr_00' }); // a refused read (no such request)
    const asked = await call(agent, 'test_write', ARGS);
    const id = (asked.structuredContent as { approval_id: string }).approval_id;
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    await call(agent, 'test_write', { ...ARGS, approval_id: id });
    const pending = await call(other, 'test_write', { ...ARGS, value: 'v3' });
    const pendingId = (pending.structuredContent as { approval_id: string }).approval_id;
    await agent.readResource({ uri: 'day2://approvals/pending' });
    await h.rt.auditLog.flush();

    const all = await search(agent, { tool: 'test_write' });
    // The executed write is one line (its request, approval, execution and outcome joined), the
    // other request another; nothing else.
    expect(all.actions).toHaveLength(2);
    const [open, executed] = all.actions;
    expect(executed).toMatchObject({
      tool: 'test_write',
      env: 'staging',
      target: 'test-record/cfg',
      requester: 'agent-bot',
      approvers: ['alice'],
      outcome: 'ok',
      detail: 'executed',
      summary: 'Set cfg to "v2" in staging',
      approval_id: id,
    });
    expect(open).toMatchObject({ requester: 'agent-two', outcome: 'pending', approval_id: pendingId });
    expect(all.text).toMatch(
      /test_write staging test-record\/cfg by agent-bot, approved by alice: OK \(executed\)/,
    );

    // Filters: by requester, by outcome; the refused read is a line with its reason.
    expect((await search(agent, { tool: 'test_write', principal: 'agent-two' })).actions).toHaveLength(1);
    const refused = await search(agent, { outcome: 'refused' });
    expect(refused.actions).toHaveLength(1);
    expect(refused.actions[0]).toMatchObject({ tool: 'get_approval', requester: 'agent-bot' });
    expect(refused.actions[0]!.detail).toMatch(/no approval request apr_00/);

    // Denying the open request turns its line into a refusal that names who denied it and why.
    await h.rt.approvals.deny(pendingId, 'bob', { channel: 'cli', reason: 'wrong value' });
    const after = await search(agent, { tool: 'test_write', outcome: 'refused' });
    expect(after.actions[0]).toMatchObject({ approval_id: pendingId, detail: 'denied by bob: wrong value' });
  });

  it('pages actions with a cursor, each action once', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    for (let i = 0; i < 5; i++) await call(agent, 'test_write', { ...ARGS, value: `v${i}`, dry_run: true });
    await h.rt.auditLog.flush();
    const first = await search(agent, { tool: 'test_write', limit: 2 });
    expect(first.actions).toHaveLength(2);
    // The next page's call, as written.
    expect(first.text).toContain(
      `More: search_audit {"tool":"test_write","limit":2,"cursor":"${first.next_cursor}"}`,
    );
    expect(first.text).toMatch(/^Actions 1–2 of 5 up to audit record \d+, newest first:/);
    // Actions taken while paging wait for a new first page: the pages read the log as it stood.
    for (const v of ['later-1', 'later-2'])
      await call(agent, 'test_write', { ...ARGS, value: v, dry_run: true });
    await h.rt.auditLog.flush();
    const second = await search(agent, { tool: 'test_write', limit: 2, cursor: first.next_cursor });
    const third = await search(agent, { tool: 'test_write', limit: 2, cursor: second.next_cursor });
    expect(third.next_cursor).toBeUndefined();
    expect(third.text).toMatch(/^Action 5 of 5 up to audit record /);
    expect([first, second, third].map((p) => p.total)).toEqual([5, 5, 5]);
    const seen = [...first.actions, ...second.actions, ...third.actions].map((a) => a.summary);
    expect(seen).toEqual(['v4', 'v3', 'v2', 'v1', 'v0'].map((v) => `Set cfg to "${v}" in staging`));
    expect(seen.every(Boolean)).toBe(true);
    expect(first.actions[0]!.detail).toMatch(/dry run/);
    const fresh = await search(agent, { tool: 'test_write', limit: 2 });
    expect(fresh.total).toBe(7);
    expect(fresh.actions.map((a) => a.summary)).toEqual(
      ['later-2', 'later-1'].map((v) => `Set cfg to "${v}" in staging`),
    );
    // A cursor belongs to its query.
    const elsewhere = await call(agent, 'search_audit', { tool: 'get_service', cursor: first.next_cursor });
    expect(elsewhere.isError).toBe(true);
    expect(text(elsewhere)).toMatch(/^cursor: .*other arguments/);
  });

  it('counts the actions of one outcome, and what every action of a requester was', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const asked = await call(agent, 'test_write', ARGS);
    const id = (asked.structuredContent as { approval_id: string }).approval_id;
    await call(agent, 'test_write', { ...ARGS, approval_id: id }); // refused: not approved yet
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli', reason: 'ok' });
    expect((await call(agent, 'test_write', { ...ARGS, approval_id: id })).isError).toBeFalsy();
    await call(agent, 'test_write', { ...ARGS, value: 'dry', dry_run: true });
    await h.rt.auditLog.flush();
    const byOutcome = async (outcome: string) => (await search(agent, { tool: 'test_write', outcome })).total;
    expect(await byOutcome('ok')).toBe(2);
    expect(await byOutcome('refused')).toBe(1);
    expect(await byOutcome('pending')).toBe(0);
    // A page smaller than the matches: the total is counted by joining every candidate.
    const okFirst = await search(agent, { tool: 'test_write', outcome: 'ok', limit: 1 });
    expect(okFirst).toMatchObject({ total: 2 });
    expect(okFirst.actions).toHaveLength(1);
    const okRest = await search(agent, {
      tool: 'test_write',
      outcome: 'ok',
      limit: 1,
      cursor: okFirst.next_cursor,
    });
    expect(okRest).toMatchObject({ total: 2, next_cursor: undefined });
    expect(okRest.text).toMatch(/^Action 2 of 2 /);
    // The requester's own filter still joins the approvals others gave.
    const mine = await search(agent, { tool: 'test_write', principal: 'agent-bot' });
    expect(mine.total).toBe(3);
    expect(mine.actions.find((a) => a.approval_id === id)).toMatchObject({
      approvers: ['alice'],
      outcome: 'ok',
    });
  });

  it('day2://audit/recent leaves resource reads out; day2://audit/recent/all has them', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    await call(agent, 'test_write', { ...ARGS, dry_run: true });
    for (let i = 0; i < 3; i++) await agent.readResource({ uri: 'day2://approvals/pending' });
    await h.rt.auditLog.flush();
    const read = async (uri: string) => {
      const res = await agent.readResource({ uri });
      return JSON.parse((res.contents[0] as { text: string }).text) as { records: { event: string }[] };
    };
    const recent = await read('day2://audit/recent');
    expect(recent.records.length).toBeGreaterThan(0);
    expect(recent.records.some((r) => r.event === 'resource.read')).toBe(false);
    expect(recent.records.some((r) => r.event === 'tool.plan')).toBe(true);
    const all = await read('day2://audit/recent/all');
    expect(all.records.filter((r) => r.event === 'resource.read').length).toBeGreaterThanOrEqual(3);
  });

  it('day2 audit tail says REFUSED and why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'day2-tail-'));
    const store = join(dir, 'day2.db');
    h = await startHarness({}, [], store);
    const agent = await h.connect('agent-bot');
    await call(agent, 'test_write', { ...ARGS, approval_id: 'apr_0123' });
    await h.close();
    let out = '';
    const stdout = new PassThrough().on('data', (d: Buffer) => (out += d.toString()));
    const io = {
      stdout,
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      env: { DAY2_STORE: store },
      cwd: dir,
    };
    expect(await main(['audit', 'tail', '-n', '5'], io)).toBe(0);
    expect(out).toMatch(/tool\.refused test_write .*REFUSED \S+ \(.*apr_0123/);
    rmSync(dir, { recursive: true, force: true });
  });
});
