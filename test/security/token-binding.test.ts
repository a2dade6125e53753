import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type TestHarness } from '../fixtures/in-memory-runtime.js';
import { backends, type TestBackend } from '../store/fixtures/backends.js';

/**
 * Issue items 5 and 7: an approval token is redeemable only by the principal that requested the
 * action, the store keeps only its hash, it is shown once, and a refused token never leaves a
 * `tool.execute` record. Run on both stores, through a real MCP client.
 */
describe.each(backends)('approval tokens: $name', (factory) => {
  let backend: TestBackend;
  let h: TestHarness;
  beforeEach(async () => {
    backend = await factory.create();
    h = await startHarness({}, [], backend.spec);
  });
  afterEach(async () => {
    await h?.close();
    await backend?.cleanup();
  });

  type Client = Awaited<ReturnType<TestHarness['connect']>>;
  const write = async (c: Client, args: Record<string, unknown>) => {
    const res = (await c.callTool({ name: 'test_write', arguments: args })) as CallToolResult;
    return {
      res,
      s: (res.structuredContent ?? {}) as Record<string, unknown>,
      text: (res.content as { text: string }[])[0]?.text ?? '',
    };
  };
  const getApproval = async (c: Client, id: string) =>
    (await c.callTool({ name: 'get_approval', arguments: { approval_id: id } })) as CallToolResult;
  const events = async () => {
    await h.rt.auditLog.flush();
    return (await h.rt.deps.store.queryAudit({ limit: 1000 })).map(
      (r) => JSON.parse(r.record) as Record<string, unknown> & { approval?: Record<string, unknown> },
    );
  };
  /** agent-7 asks, alice approves, agent-7 reads its token: [args, approval id, token]. */
  const approvedFor = async (agent: Client, value: string) => {
    const args = { env: 'prod', target: 'payments', value };
    const asked = await write(agent, args);
    expect(asked.s.status).toBe('approval_required');
    const id = asked.s.approval_id as string;
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    const got = await getApproval(agent, id);
    const token = (got.structuredContent as { approval_token?: string }).approval_token!;
    expect(token).toMatch(/^d2t_/);
    return { args, id, token };
  };

  it("refuses another principal redeeming agent-7's token, audits it and writes nothing", async () => {
    const agent = await h.connect('agent-7');
    const mallory = await h.connect('mallory');
    const { args, id, token } = await approvedFor(agent, 'v1');

    const stolen = await write(mallory, { ...args, approval_token: token });
    expect(stolen.res.isError).toBe(true);
    expect(stolen.text).toMatch(/redeemable only by the principal that requested the action/);
    expect(h.backend.writes).toHaveLength(0);
    const refused = (await events()).filter((e) => e.event === 'approval.token_refused');
    expect(refused.at(-1)).toMatchObject({
      principal: 'mallory',
      approval: { id, code: 'wrong_principal' },
    });
    expect((await events()).filter((e) => e.event === 'tool.execute')).toHaveLength(0);
    // The refusal did not spend it: the requester still can, once (in another spelling, too).
    expect((await h.rt.approvals.get(id))?.status).toBe('approved');
    const agentAgain = await h.connect('Agent-7');
    const done = await write(agentAgain, { ...args, approval_token: token });
    expect(done.s.status, done.text).toBe('executed');
    expect(h.backend.writes).toHaveLength(1);
  });

  it('shows the token once, only to the requester, and keeps only its hash', async () => {
    const agent = await h.connect('agent-7');
    const other = await h.connect('bob');
    const args = { env: 'prod', target: 'payments', value: 'v2' };
    const id = (await write(agent, args)).s.approval_id as string;

    // From the moment the request exists, the table holds no token that anyone could read.
    const atRequest = await backend.sql((t) => `SELECT * FROM ${t('approvals')}`);
    expect(atRequest).toHaveLength(1);

    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    const notHis = await getApproval(other, id);
    expect((notHis.structuredContent as { approval_token?: string }).approval_token).toBeUndefined();
    const first = await getApproval(agent, id);
    const token = (first.structuredContent as { approval_token?: string }).approval_token!;
    expect(token).toMatch(/^d2t_/);
    const second = await getApproval(agent, id);
    expect((second.structuredContent as { approval_token?: string }).approval_token).toBeUndefined();
    expect((second.content as { text: string }[])[0]!.text).toMatch(/already issued .* never shown again/);

    const rows = await backend.sql((t) => `SELECT * FROM ${t('approvals')}`);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice(4));
    expect(String(rows[0]!.token)).toMatch(/^[0-9a-f]{64}$/);
    // Nor in the audit log.
    expect(JSON.stringify(await events())).not.toContain(token);
  });

  it('refused tokens (wrong digest, other principal, reused, expired) leave no tool.execute; an execution leaves one', async () => {
    const agent = await h.connect('agent-7');
    const mallory = await h.connect('mallory');
    const a = await approvedFor(agent, 'v3');
    const wrongDigest = await write(agent, { ...a.args, value: 'evil', approval_token: a.token });
    expect(wrongDigest.text).toMatch(/issued for a different action/);
    const otherPrincipal = await write(mallory, { ...a.args, approval_token: a.token });
    expect(otherPrincipal.text).toMatch(/redeemable only by the principal/);
    const unknown = await write(agent, { ...a.args, approval_token: 'd2t_' + 'x'.repeat(32) });
    expect(unknown.text).toMatch(/no approval has that token/);
    expect((await events()).filter((e) => e.event === 'tool.execute')).toHaveLength(0);

    const ok = await write(agent, { ...a.args, approval_token: a.token });
    expect(ok.s.status, ok.text).toBe('executed');
    const reused = await write(agent, { ...a.args, approval_token: a.token });
    expect(reused.text).toMatch(/already used/);

    const b = await approvedFor(agent, 'v4');
    h.clock.advance(16 * 60_000);
    const expired = await write(agent, { ...b.args, approval_token: b.token });
    expect(expired.text).toMatch(/expired/);

    const all = await events();
    const executes = all.filter((e) => e.event === 'tool.execute');
    expect(executes).toHaveLength(1);
    expect(executes[0]).toMatchObject({ principal: 'agent-7', approval: { id: a.id } });
    expect(all.filter((e) => e.event === 'approval.token_refused').map((e) => e.approval?.code)).toEqual([
      'wrong_digest',
      'wrong_principal',
      'unknown',
      'consumed',
      'expired',
    ]);
    // The consumption is recorded after its execution record.
    const order = all.map((e) => e.event);
    expect(order.indexOf('approval.consumed')).toBeGreaterThan(order.indexOf('tool.execute'));
    expect(h.backend.writes).toHaveLength(1);
  });

  it('migrates a store that held plaintext tokens: hashed in place, still redeemable once by the requester', async () => {
    const agent = await h.connect('agent-7');
    const args = { env: 'prod', target: 'payments', value: 'v5' };
    const id = (await write(agent, args)).s.approval_id as string;
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    await h.close();

    // Turn the store back into a version-1 store holding a plaintext token.
    const legacy = 'd2t_legacy-plaintext-token-0123456789';
    await backend.sql((t) => `UPDATE ${t('approvals')} SET token = '${legacy}'`);
    await backend.sql((t) => `ALTER TABLE ${t('approvals')} DROP COLUMN token_issued_at`);
    if (backend.name === 'sqlite') await backend.sql(() => 'PRAGMA user_version = 1');
    else await backend.sql((t) => `UPDATE ${t('meta')} SET value = '1' WHERE key = 'schema_version'`);

    h = await startHarness({}, [], backend.spec);
    const rows = await backend.sql((t) => `SELECT * FROM ${t('approvals')}`);
    expect(JSON.stringify(rows)).not.toContain(legacy);
    expect(rows[0]!.token_issued_at).toBeTruthy();

    const mallory = await h.connect('mallory');
    expect((await write(mallory, { ...args, approval_token: legacy })).text).toMatch(/redeemable only/);
    const again = await h.connect('agent-7');
    // Already issued before the migration: get_approval does not issue a second one.
    expect(
      ((await getApproval(again, id)).structuredContent as { approval_token?: string }).approval_token,
    ).toBeUndefined();
    expect((await write(again, { ...args, approval_token: legacy })).s.status).toBe('executed');
    expect(h.backend.writes).toHaveLength(1);
  });
});
