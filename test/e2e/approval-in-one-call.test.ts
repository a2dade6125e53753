import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type TestHarness } from '../fixtures/in-memory-runtime.js';
import { issuedToken } from '../fixtures/approval-token.js';
import { waitFor } from '../fixtures/wait-for.js';
import { allAudit, type ParsedAudit } from '../fixtures/audit-records.js';

// Issue 16 item 4, from the agent's side: after a human approves, the write costs the agent one
// call (the same arguments plus approval_id), and get_approval can wait for the decision.

type Structured = Record<string, unknown> & { status?: string; approval_id?: string };

const ARGS = { env: 'staging', target: 'cfg', value: 'v2' };

const textOf = (r: CallToolResult) => (r.content as { text: string }[])[0]?.text ?? '';
const structured = (r: CallToolResult) => (r.structuredContent ?? {}) as Structured;

async function write(client: Client, args: Record<string, unknown>) {
  return (await client.callTool({ name: 'test_write', arguments: args })) as CallToolResult;
}

async function requestApproval(client: Client, args: Record<string, unknown> = ARGS): Promise<string> {
  const r = await write(client, args);
  expect(r.isError, textOf(r)).toBeFalsy();
  expect(structured(r).status).toBe('approval_required');
  return structured(r).approval_id!;
}

async function audit(h: TestHarness): Promise<ParsedAudit[]> {
  await h.rt.auditLog.flush();
  return allAudit(h.rt.deps.store);
}

let h: TestHarness;
afterEach(async () => h?.close());

describe('an approved write costs the agent one call', () => {
  it('redeems an approval by approval_id, once, in the call that executes the write', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const id = await requestApproval(agent);
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });

    const done = await write(agent, { ...ARGS, approval_id: id });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(structured(done).status).toBe('executed');
    expect(h.backend.writes).toEqual([{ target: 'cfg', value: 'v2' }]);
    expect((await h.rt.deps.store.getApproval(id))?.status).toBe('consumed');
    const events = await audit(h);
    expect(events.find((e) => e.event === 'tool.execute')).toMatchObject({
      principal: 'agent-bot',
      approval: { id },
    });
    expect(events.find((e) => e.event === 'approval.consumed')).toMatchObject({ approval: { id } });

    // Single use: the same approval_id again is refused, audited, and writes nothing.
    const again = await write(agent, { ...ARGS, approval_id: id });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/approval_id was already used; approvals are single-use/);
    expect((await audit(h)).filter((e) => e.event === 'approval.token_refused')).toEqual([
      expect.objectContaining({
        principal: 'agent-bot',
        approval: { id, code: 'consumed', via: 'approval_id' },
      }),
    ]);
    expect(h.backend.writes).toHaveLength(1);
  });

  it("refuses another principal's approval_id, audits it, and leaves it to its requester", async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const other = await h.connect('agent-eve');
    const id = await requestApproval(agent);
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });

    const stolen = await write(other, { ...ARGS, approval_id: id });
    expect(stolen.isError).toBe(true);
    expect(textOf(stolen)).toMatch(
      /approval_id belongs to an action another principal requested: an approval is redeemable only by the principal that requested the action/,
    );
    expect(h.backend.writes).toHaveLength(0);
    const refused = (await audit(h)).filter((e) => e.event === 'approval.token_refused');
    expect(refused).toEqual([
      expect.objectContaining({
        principal: 'agent-eve',
        tool: 'test_write',
        approval: { id, code: 'wrong_principal', via: 'approval_id' },
      }),
    ]);
    expect((await audit(h)).some((e) => e.event === 'tool.execute')).toBe(false);

    // Principals are compared in canonical form: the requester under another spelling redeems it.
    const same = await h.connect('Agent-Bot\u200b');
    const done = await write(same, { ...ARGS, approval_id: id });
    expect(structured(done).status, textOf(done)).toBe('executed');
    expect(h.backend.writes).toHaveLength(1);
  });

  it('refuses an expired approval_id, one for other arguments, and one not approved yet', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const pending = await requestApproval(agent, { ...ARGS, value: 'later' });
    const early = await write(agent, { ...ARGS, value: 'later', approval_id: pending });
    expect(early.isError).toBe(true);
    expect(textOf(early)).toMatch(/not approved yet.*get_approval/);

    const id = await requestApproval(agent);
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    const tampered = await write(agent, { ...ARGS, value: 'evil', approval_id: id });
    expect(tampered.isError).toBe(true);
    expect(textOf(tampered)).toMatch(/approval_id was approved for a different action/);

    h.clock.advance(16 * 60_000);
    const late = await write(agent, { ...ARGS, approval_id: id });
    expect(late.isError).toBe(true);
    expect(textOf(late)).toMatch(/approval_id has expired/);
    const codes = (await audit(h))
      .filter((e) => e.event === 'approval.token_refused')
      .map((e) => (e.approval as { code: string }).code);
    expect(codes).toEqual(['not_approved', 'wrong_digest', 'expired']);
    expect(h.backend.writes).toHaveLength(0);
  });

  it('tells the agent so in the server instructions', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    expect(agent.getInstructions()).toMatch(
      /get_approval with wait_s waits for it\); then call again with the same arguments plus approval_id/,
    );
  });

  it('takes approval_token or approval_id, not both', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const id = await requestApproval(agent);
    const approved = await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    const token = await issuedToken(h.rt.approvals, approved);
    const both = await write(agent, { ...ARGS, approval_id: id, approval_token: token });
    expect(both.isError).toBe(true);
    expect(textOf(both)).toMatch(/approval_token or approval_id, not both/);
    expect(h.backend.writes).toHaveLength(0);
    // The token path stays: another process of the same principal redeems the token.
    const done = await write(agent, { ...ARGS, approval_token: token });
    expect(structured(done).status, textOf(done)).toBe('executed');
    // The token and the id are one approval: once used, neither redeems it again.
    expect(textOf(await write(agent, { ...ARGS, approval_id: id }))).toMatch(/already used/);
  });
});

describe('get_approval waits for the decision', () => {
  it('returns as soon as another party approves during the wait, with progress meanwhile', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const id = await requestApproval(agent);
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const started = Date.now();
    const waiting = agent.callTool(
      { name: 'get_approval', arguments: { approval_id: id, wait_s: 20 } },
      undefined,
      {
        onprogress: (p) => void progress.push(p),
      },
    );
    await waitFor(() => (progress.length ? true : undefined), 'a progress notification');
    await new Promise((r) => setTimeout(r, 700));
    expect((await h.rt.deps.store.getApproval(id))?.status).toBe('pending');
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });

    const got = (await waiting) as CallToolResult;
    const elapsed = Date.now() - started;
    expect(got.isError, textOf(got)).toBeFalsy();
    expect(structured(got)).toMatchObject({ approval_id: id, status: 'approved', approvers: ['alice'] });
    expect(elapsed).toBeLessThan(10_000);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress[0]).toMatchObject({ total: 20 });
    expect(progress[0]!.message).toMatch(/waiting for approval: 0 of 1/);
    expect(textOf(got)).toContain(`call test_write again with the same arguments plus "approval_id":"${id}"`);

    const done = await write(agent, { ...ARGS, approval_id: id });
    expect(structured(done).status, textOf(done)).toBe('executed');
  });

  it('returns on a denial, and when the request expires during the wait', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const id = await requestApproval(agent);
    const waiting = agent.callTool({ name: 'get_approval', arguments: { approval_id: id, wait_s: 20 } });
    await new Promise((r) => setTimeout(r, 300));
    await h.rt.approvals.deny(id, 'alice', { channel: 'cli', reason: 'not today' });
    expect(structured((await waiting) as CallToolResult).status).toBe('denied');

    const other = await requestApproval(agent, { ...ARGS, value: 'v3' });
    const expiring = agent.callTool({ name: 'get_approval', arguments: { approval_id: other, wait_s: 20 } });
    await new Promise((r) => setTimeout(r, 300));
    h.clock.advance(16 * 60_000);
    const started = Date.now();
    expect(structured((await expiring) as CallToolResult).status).toBe('expired');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops waiting when the call is cancelled', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const id = await requestApproval(agent);
    const abort = new AbortController();
    const waiting = agent.callTool(
      { name: 'get_approval', arguments: { approval_id: id, wait_s: 30 } },
      undefined,
      {
        signal: abort.signal,
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    await expect(waiting).rejects.toThrow();
    const cancelled = await waitFor(async () => {
      const e = (await audit(h)).find((x) => x.tool === 'get_approval' && x.outcome);
      return e && (e.outcome as { error?: string }).error;
    }, 'the audited cancellation');
    expect(cancelled).toBe('cancelled');
  });

  it('answers at once without wait_s', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const id = await requestApproval(agent);
    const started = Date.now();
    const got = (await agent.callTool({
      name: 'get_approval',
      arguments: { approval_id: id },
    })) as CallToolResult;
    expect(structured(got).status).toBe('pending');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('approval_required says what the human will be asked for', () => {
  it('names the approvers needed, the channels, the reason and who may not approve, in text and structure', async () => {
    h = await startHarness({
      policy: {
        version: 'ask-1',
        rules: [
          {
            id: 'two-with-reason',
            match: { tool: 'test_write' },
            decision: 'require_approval',
            approvals: 2,
            distinct_from_requester: true,
            reason_required: true,
            channels: ['cli', 'http'],
          },
        ],
      },
      http: {
        public_url: 'https://day2.example.test',
        approvers: [{ principal: 'alice', token_sha256: createHash('sha256').update('t').digest('hex') }],
      },
    });
    const agent = await h.connect('agent-bot');
    const r = await write(agent, ARGS);
    const s = structured(r);
    const id = s.approval_id!;
    expect(s).toMatchObject({
      status: 'approval_required',
      policy: { approvals_needed: 2, channels: ['cli', 'http'], reason_required: true },
      may_not_approve: ['agent-bot'],
      approve_url: `https://day2.example.test/approvals/${id}`,
    });
    const text = textOf(r);
    expect(text).toContain('2 approvers');
    expect(text).toContain('not agent-bot (the requester)');
    expect(text).toContain('a reason');
    expect(text).toContain('through cli or http');
    expect(text).toContain(`day2 approve ${id} --reason "…"`);
    expect(text).toContain(`https://day2.example.test/approvals/${id}`);
    expect(text).toContain(
      `Next: wait with get_approval {"approval_id":"${id}","wait_s":60}, then call test_write again with the same arguments plus "approval_id":"${id}".`,
    );
  });

  it('says so when anyone may approve through the CLI alone, without a reason', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const r = await write(agent, ARGS);
    expect(structured(r)).toMatchObject({
      policy: { approvals_needed: 1, channels: ['cli'], reason_required: false },
      may_not_approve: [],
    });
    expect(structured(r).approve_url).toBeUndefined();
    const text = textOf(r);
    expect(text).toContain('1 approver');
    expect(text).toContain('through cli');
    expect(text).not.toContain('reason');
    expect(text).not.toContain('(the requester)');
  });
});
