import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { createServer } from '../../src/server/create-server.js';
import { z } from 'zod';
import { defineTool } from '../../src/contract/define-tool.js';
import { durationField, envField } from '../../src/contract/fields.js';
import { startHarness, type TestHarness } from '../fixtures/in-memory-runtime.js';
import { issuedToken } from '../fixtures/approval-token.js';

type Structured = Record<string, unknown> & { status?: string; approval_id?: string };

async function call(
  h: TestHarness,
  client: Awaited<ReturnType<TestHarness['connect']>>,
  args: Record<string, unknown>,
) {
  const res = await client.callTool({ name: 'test_write', arguments: args });
  return {
    res,
    s: (res.structuredContent ?? {}) as Structured,
    text: (res.content as { text: string }[])[0]?.text ?? '',
  };
}

async function auditEvents(h: TestHarness): Promise<Record<string, unknown>[]> {
  await h.rt.auditLog.flush();
  const rows = await h.rt.deps.store.queryAudit({ limit: 1000 });
  return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>);
}

describe('governed write flow (in-memory client)', () => {
  let h: TestHarness;
  afterEach(async () => h?.close());

  it('plans, waits for approval, executes once with the token, and refuses a replay', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const args = { env: 'staging', target: 'cfg', value: 'v2' };

    const first = await call(h, agent, args);
    expect(first.res.isError).toBeFalsy();
    expect(first.s.status).toBe('approval_required');
    expect(first.s.approve_with).toBe(`day2 approve ${first.s.approval_id}`);
    expect(h.backend.writes).toHaveLength(0);
    expect(h.notifier.sent.map((n) => n.kind)).toContain('approval.requested');

    // The same call again returns the same pending request.
    const again = await call(h, agent, args);
    expect(again.s.approval_id).toBe(first.s.approval_id);

    // The agent cannot get a token before a human approves.
    const pending = await agent.callTool({
      name: 'get_approval',
      arguments: { approval_id: first.s.approval_id },
    });
    expect((pending.structuredContent as Structured).status).toBe('pending');
    expect((pending.structuredContent as Structured).approval_token).toBeUndefined();

    await h.rt.approvals.approve(first.s.approval_id!, 'alice', { channel: 'cli' });
    const approved = await agent.callTool({
      name: 'get_approval',
      arguments: { approval_id: first.s.approval_id },
    });
    const token = (approved.structuredContent as Structured).approval_token as string;
    expect(token).toMatch(/^d2t_/);

    const exec = await call(h, agent, { ...args, approval_token: token });
    expect(exec.res.isError).toBeFalsy();
    expect(exec.s.status).toBe('executed');
    expect(h.backend.writes).toEqual([{ target: 'cfg', value: 'v2' }]);

    const replay = await call(h, agent, { ...args, approval_token: token });
    expect(replay.res.isError).toBe(true);
    expect(replay.text).toMatch(/already used/);
    expect(h.backend.writes).toHaveLength(1);

    const events = (await auditEvents(h)).map((e) => e.event);
    expect(events).toEqual(
      expect.arrayContaining([
        'approval.requested',
        'approval.approved',
        'tool.execute',
        'tool.outcome',
        'approval.token_refused',
      ]),
    );
  });

  it('refuses tampered arguments, another env and a changed target with the backend untouched', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const args = { env: 'staging', target: 'cfg', value: 'v2' };
    const first = await call(h, agent, args);
    const approved = await h.rt.approvals.approve(first.s.approval_id!, 'alice', { channel: 'cli' });
    const token = await issuedToken(h.rt.approvals, approved);

    const tampered = await call(h, agent, { ...args, value: 'evil', approval_token: token });
    expect(tampered.res.isError).toBe(true);
    expect(tampered.text).toMatch(/different action/);
    const otherEnv = await call(h, agent, { ...args, env: 'dev', approval_token: token });
    expect(otherEnv.res.isError).toBe(true);
    h.backend.version = 99; // the live target changed after planning
    const changed = await call(h, agent, { ...args, approval_token: token });
    expect(changed.res.isError).toBe(true);
    expect(h.backend.writes).toHaveLength(0);
    const refusals = (await auditEvents(h)).filter((e) => e.event === 'approval.token_refused');
    expect(refusals).toHaveLength(3);
  });

  it('expires tokens and needs two distinct approvers for critical production writes', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const args = { env: 'prod', target: 'db', value: 'x' };
    // test_write is risk high; prod + high → one approver under the defaults.
    const first = await call(h, agent, args);
    expect((first.s.policy as Record<string, unknown>).rule).toBe('writes-need-approval');
    const ok = await h.rt.approvals.approve(first.s.approval_id!, 'alice', { channel: 'cli' });
    const lateToken = await issuedToken(h.rt.approvals, ok);
    h.clock.advance(16 * 60_000);
    const late = await call(h, agent, { ...args, approval_token: lateToken });
    expect(late.res.isError).toBe(true);
    expect(late.text).toMatch(/expired/);
    expect(h.backend.writes).toHaveLength(0);
  });

  it("caps a write's duration where a policy rule says max_duration, before any approval or write", async () => {
    let writes = 0;
    const timed = defineTool({
      name: 'test_timed',
      title: 'Test timed write',
      description: 'A write for a while (tests only).',
      toolset: 'test',
      effect: 'write',
      risk: 'low',
      input: { env: envField, duration: durationField('e.g. 30m') },
      output: { ok: z.boolean() },
      plan: (args) =>
        Promise.resolve({
          summary: `hold for ${args.duration}`,
          env: args.env,
          targets: [{ kind: 'object', name: 'timed' }],
          preconditions: {},
          details: {},
        }),
      execute: () => {
        writes++;
        return Promise.resolve({ ok: true });
      },
      render: () => 'done',
    });
    h = await startHarness(
      {
        policy: {
          rules: [
            {
              id: 'one-hour',
              match: { tool: 'test_timed' },
              decision: 'require_approval',
              max_duration: '1h',
            },
          ],
        },
      },
      [timed],
    );
    const agent = await h.connect('agent-bot');
    const long = await agent.callTool({ name: 'test_timed', arguments: { env: 'staging', duration: '2h' } });
    expect(long.isError).toBe(true);
    expect((long.content as { text: string }[])[0]!.text).toBe(
      'duration: policy rule "one-hour" allows at most 60 minutes in staging; ask for less.',
    );
    expect((await h.rt.deps.store.listApprovals({ limit: 10 })).length).toBe(0);
    const ok = await agent.callTool({ name: 'test_timed', arguments: { env: 'staging', duration: '45m' } });
    expect((ok.structuredContent as Structured).status).toBe('approval_required');
    expect(writes).toBe(0);
  });

  it("hands execute the plan's typed preconditions and never the approver's view", async () => {
    const seen: Record<string, unknown>[] = [];
    const handoff = defineTool({
      name: 'test_handoff',
      title: 'Test plan hand-off',
      description: 'A write that records the plan it executes (tests only).',
      toolset: 'test',
      effect: 'write',
      risk: 'low',
      input: { env: envField },
      output: { container: z.string() },
      plan: (args) =>
        Promise.resolve({
          summary: 'change one container',
          env: args.env,
          targets: [{ kind: 'object', name: 'handoff' }],
          preconditions: { container: 'app', resource_version: '7' },
          details: { container: 'shown to the approver only' },
        }),
      execute: (_args, _ctx, plan) => {
        seen.push({ ...plan });
        return Promise.resolve({ container: plan.preconditions.container });
      },
      render: (o) => `changed ${o.container}`,
    });
    h = await startHarness(
      { policy: { rules: [{ id: 'allow-handoff', match: { tool: 'test_handoff' }, decision: 'allow' }] } },
      [handoff],
    );
    const agent = await h.connect('agent-bot');
    const r = await agent.callTool({ name: 'test_handoff', arguments: { env: 'staging' } });
    expect((r.structuredContent as Structured).status).toBe('executed');
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toHaveProperty('details');
    expect(seen[0]!.preconditions).toEqual({ container: 'app', resource_version: '7' });
  });

  it('dry_run plans without requesting approval', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const r = await call(h, agent, { env: 'staging', target: 'cfg', value: 'v', dry_run: true });
    expect(r.s.status).toBe('dry_run');
    expect(await h.rt.deps.store.listApprovals({ status: 'pending', limit: 10 })).toHaveLength(0);
  });

  it('names the bad field on invalid input and audits the attempt', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const r = await call(h, agent, { env: 'staging', target: 5, extra: true });
    expect(r.res.isError).toBe(true);
    expect(r.text).toMatch(/target: expected string/);
    expect(r.text).toMatch(/unknown field "extra"/);
    const last = (await auditEvents(h)).at(-1)!;
    expect((last.outcome as Record<string, unknown>).error).toBe('invalid_input');
  });

  it('never echoes a secret argument in results or audit records', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const canary = 'canary-S3cr3t-value-4711';
    const r = await call(h, agent, { env: 'staging', target: 'cfg', value: 'v', password: canary });
    expect(JSON.stringify(r.res)).not.toContain(canary);
    const rows = await (async () => {
      await h.rt.auditLog.flush();
      return h.rt.deps.store.queryAudit({ limit: 100 });
    })();
    expect(rows.map((x) => x.record).join('\n')).not.toContain(canary);
    const req = await h.rt.deps.store.getApproval(r.s.approval_id!);
    expect(JSON.stringify(req)).not.toContain(canary);
  });

  it('read-only sessions list no write tool', async () => {
    h = await startHarness();
    const ro = await h.connect('agent-bot', { readOnly: true });
    const { tools } = await ro.listTools();
    expect(tools.map((t) => t.name)).not.toContain('test_write');
    // What is left reads, or changes only day2's own records: nothing a host would call destructive.
    expect(tools.length).toBeGreaterThan(0);
    expect(
      tools.filter((t) => t.annotations?.destructiveHint !== false && !t.annotations?.readOnlyHint),
    ).toEqual([]);
  });

  it('uses elicitation only where a rule names it, and never in production', async () => {
    h = await startHarness({
      policy: {
        rules: [
          {
            id: 'elicit-ok',
            match: { tool: 'test_write' },
            decision: 'require_approval',
            channels: ['cli', 'elicitation'],
          },
        ],
      },
    });
    const server = createServer(h.rt, { principal: { id: 'dev-user', transport: 'stdio' } });
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client(
      { name: 'eliciting-client', version: '1.0.0' },
      { capabilities: { elicitation: {} } },
    );
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      asked.push(String(req.params.message));
      return { action: 'accept', content: { confirm: true } };
    });
    await Promise.all([server.connect(a), client.connect(b)]);

    const staging = await client.callTool({
      name: 'test_write',
      arguments: { env: 'staging', target: 't', value: '1' },
    });
    expect((staging.structuredContent as Structured).status).toBe('executed');
    expect(asked).toHaveLength(1);
    expect(h.backend.writes).toHaveLength(1);

    const prod = await client.callTool({
      name: 'test_write',
      arguments: { env: 'prod', target: 't', value: '2' },
    });
    expect((prod.structuredContent as Structured).status).toBe('approval_required');
    expect(asked).toHaveLength(1);
    expect(h.backend.writes).toHaveLength(1);
    await client.close();
  });

  it('a client without elicitation gets the out-of-band flow even where a rule allows elicitation', async () => {
    h = await startHarness({
      policy: {
        rules: [
          {
            id: 'elicit-ok',
            match: { tool: 'test_write' },
            decision: 'require_approval',
            channels: ['cli', 'elicitation'],
          },
        ],
      },
    });
    const agent = await h.connect('dev-user');
    const r = await call(h, agent, { env: 'staging', target: 't', value: '1' });
    expect(r.s.status).toBe('approval_required');
    expect(h.backend.writes).toHaveLength(0);
  });

  it('refuses self-approval where policy demands a distinct approver, and waits for k of N', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const args = { env: 'prod', target: 'db', value: 'x' };
    // Critical production writes need two approvers distinct from the requester (default rule).
    h.rt.tools.find((t) => t.name === 'test_write')!.risk = 'critical';
    const first = await call(h, agent, args);
    expect((first.s.policy as Record<string, unknown>).rule).toBe('production-critical-writes');
    const id = first.s.approval_id!;
    await expect(h.rt.approvals.approve(id, 'agent-bot', { channel: 'cli' })).rejects.toThrow(
      /other than the requester/,
    );
    const one = await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    expect(one.status).toBe('pending');
    await expect(h.rt.approvals.approve(id, 'alice', { channel: 'cli' })).rejects.toThrow(/already approved/);
    // No token exists before the last approval.
    expect((await h.rt.approvals.issueToken(one, one.requester)).issued).toBe(false);
    const two = await h.rt.approvals.approve(id, 'bob', { channel: 'cli' });
    expect(two.status).toBe('approved');
    const exec = await call(h, agent, {
      ...args,
      approval_token: await issuedToken(h.rt.approvals, two),
    });
    expect(exec.s.status).toBe('executed');
    expect(h.backend.writes).toHaveLength(1);
    const events = (await auditEvents(h)).map((e) => e.event);
    expect(events.filter((e) => e === 'approval.approve.refused')).toHaveLength(2);
  });
});
