import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type ServeHandle } from '../../src/cli/serve.js';
import { allAudit } from '../fixtures/audit-records.js';
import { rawRequest, type RawResponse } from '../fixtures/raw-http.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { waitFor } from '../fixtures/wait-for.js';
import { backendWrites } from '../fixtures/test-tools.js';
import { serveHttp } from '../fixtures/serve-http.js';

const ALICE = 'alice-approver-token-0001';
const AGENT_AS_APPROVER = 'agent-approver-token-0002';

const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

describe('the approval page', () => {
  let t: TestEnv;
  let h: ServeHandle;
  let base: string;
  let agent: Client;
  let hook: Server;
  const notified: { text: string; day2: { url?: string; fields: { approval_id: string } } }[] = [];

  beforeAll(async () => {
    // The chat webhook approvers get their notifications from.
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        notified.push(JSON.parse(body) as (typeof notified)[number]);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    t = makeTestEnv({
      notify: { webhook_url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` },
      policy: {
        version: 'page-1',
        rules: [
          {
            id: 'page-ok',
            match: { tool: 'test_write', service: 'web' },
            decision: 'require_approval',
            distinct_from_requester: true,
            channels: ['cli', 'http'],
          },
          { id: 'cli-only', match: { tool: 'test_write' }, decision: 'require_approval' },
        ],
      },
      http: {
        public_url: 'https://day2.example.test',
        approvers: [
          { principal: 'alice', token_env: 'DAY2_TEST_ALICE' },
          { principal: 'agent-h', token_env: 'DAY2_TEST_AGENT_APPROVER' },
        ],
      },
    });
    h = await serveHttp(t, {
      DAY2_PRINCIPAL: 'agent-h',
      DAY2_TEST_ALICE: ALICE,
      DAY2_TEST_AGENT_APPROVER: AGENT_AS_APPROVER,
    });
    base = new URL(h.url!).origin;
    agent = new Client({ name: 'page-e2e', version: '1.0.0' });
    await agent.connect(new StreamableHTTPClientTransport(new URL(h.url!)));
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
    hook?.close();
    t?.cleanup();
  });

  const ask = async (target: string, value: string) => {
    const r = (await agent.callTool({
      name: 'test_write',
      arguments: { env: 'prod', target, value },
    })) as CallToolResult;
    const sc = r.structuredContent as { status: string; approval_id: string };
    expect(sc.status).toBe('approval_required');
    return sc.approval_id;
  };
  const get = (path: string, auth = basic('alice', ALICE)) =>
    rawRequest(`${base}${path}`, { headers: { Authorization: auth } });
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    rawRequest(`${base}${path}`, {
      method: 'POST',
      headers: {
        Authorization: basic('alice', ALICE),
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: base,
        ...headers,
      },
      body: new URLSearchParams(form).toString(),
    });
  const formOf = (page: RawResponse) => ({
    digest: /name="digest" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '',
    form_token: /name="form_token" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '',
  });
  const status = async (id: string) => (await h.runtime.deps.store.getApproval(id))!;

  it('lets no one in without an approver token, agent bearer tokens and wrong pairs included', async () => {
    for (const auth of [
      '',
      `Bearer ${ALICE}`,
      basic('alice', 'wrong'),
      basic('bob', ALICE),
      basic('alice', ''),
    ]) {
      const r = await get('/approvals', auth);
      expect(r.status, auth).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm="day2 approvals"/);
    }
    const ok = await get('/approvals');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.headers['x-frame-options']).toBe('DENY');
  });

  it('shows the plan escaped, then records an approval the assistant can use, once', async () => {
    const id = await ask('web', '<script>alert(1)</script>');
    expect((await get('/approvals')).body).toContain(`/approvals/${id}`);
    const page = await get(`/approvals/${id}`);
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<script>alert(1)</script>');
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).toContain('Approve as alice');

    // As a browser behind the TLS proxy at http.public_url sends it: that host and origin are ours.
    const done = await post(
      `/approvals/${id}`,
      { ...formOf(page), decision: 'approve', reason: 'looks right' },
      { Host: 'day2.example.test', Origin: 'https://day2.example.test' },
    );
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(`/approvals/${id}`);
    const approved = await status(id);
    expect(approved.status).toBe('approved');
    expect(approved.decisions).toMatchObject([
      { principal: 'alice', channel: 'http', reason: 'looks right' },
    ]);
    await h.runtime.auditLog.flush();
    expect(
      (await allAudit(h.runtime.deps.store)).some(
        (r) => r.event === 'approval.approved' && r.principal === 'alice' && r.approval?.channel === 'http',
      ),
    ).toBe(true);
    expect((await get(`/approvals/${id}`)).body).not.toMatch(/name="form_token"/);

    const token = (
      (await agent.callTool({ name: 'get_approval', arguments: { approval_id: id } })) as CallToolResult
    ).structuredContent as { approval_token: string };
    const before = backendWrites(t.backendFile).length;
    const run = (await agent.callTool({
      name: 'test_write',
      arguments: {
        env: 'prod',
        target: 'web',
        value: '<script>alert(1)</script>',
        approval_token: token.approval_token,
      },
    })) as CallToolResult;
    expect((run.structuredContent as { status: string }).status).toBe('executed');
    expect(backendWrites(t.backendFile).length).toBe(before + 1);
  });

  it('records nothing for a forged form, another site, or an action that changed', async () => {
    const id = await ask('web', 'v2');
    const form = formOf(await get(`/approvals/${id}`));
    const forged = await post(`/approvals/${id}`, {
      ...form,
      form_token: '0'.repeat(64),
      decision: 'approve',
    });
    expect(forged.status).toBe(403);
    const otherSite = await post(
      `/approvals/${id}`,
      { ...form, decision: 'approve' },
      { Origin: 'https://evil.example' },
    );
    expect(otherSite.status).toBe(403);
    const changed = await post(`/approvals/${id}`, { ...form, digest: 'f'.repeat(64), decision: 'approve' });
    expect(changed.status).toBe(409);
    // A form token is bound to its approver: agent-h cannot replay alice's.
    const replayed = await post(
      `/approvals/${id}`,
      { ...form, decision: 'approve' },
      { Authorization: basic('agent-h', AGENT_AS_APPROVER) },
    );
    expect(replayed.status).toBe(403);
    const after = await status(id);
    expect(after.status).toBe('pending');
    expect(after.decisions).toEqual([]);
  });

  it('holds policy: no self-approval, and a rule without the http channel takes only a denial here', async () => {
    const own = await ask('web', 'v3');
    const asAgent = basic('agent-h', AGENT_AS_APPROVER);
    const ownForm = formOf(await get(`/approvals/${own}`, asAgent));
    const self = await post(
      `/approvals/${own}`,
      { ...ownForm, decision: 'approve' },
      { Authorization: asAgent },
    );
    expect(self.status).toBe(409);
    expect(self.body).toContain('needs an approver other than the requester');
    expect((await status(own)).status).toBe('pending');

    const cliOnly = await ask('db', 'v4');
    const page = await get(`/approvals/${cliOnly}`);
    expect(page.body).not.toContain('Approve as');
    expect(page.body).toContain('does not accept approvals through this page');
    const refused = await post(`/approvals/${cliOnly}`, { ...formOf(page), decision: 'approve' });
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('does not accept approvals through http');
    expect((await status(cliOnly)).status).toBe('pending');
    const denied = await post(`/approvals/${cliOnly}`, {
      ...formOf(page),
      decision: 'deny',
      reason: 'not now',
    });
    expect(denied.status).toBe(303);
    expect((await status(cliOnly)).status).toBe('denied');

    // Notifications link the page where the rule takes a decision made there, and only there.
    const noteOf = (id: string) => notified.find((n) => n.day2.fields.approval_id === id);
    const linked = await waitFor(() => noteOf(own), 'the notification of the page-approvable request');
    expect(linked.day2.url).toBe(`https://day2.example.test/approvals/${own}`);
    expect(linked.text).toContain(`https://day2.example.test/approvals/${own}`);
    const cliNote = await waitFor(() => noteOf(cliOnly), 'the notification of the cli-only request');
    expect(cliNote.day2.url).toBeUndefined();

    // The assistant gets the same link to show its user.
    const again = async (target: string, value: string) =>
      (
        (await agent.callTool({
          name: 'test_write',
          arguments: { env: 'prod', target, value },
        })) as CallToolResult
      ).structuredContent as { approval_id: string; approve_url?: string };
    const third = await again('web', 'v5');
    expect(third.approve_url).toBe(`https://day2.example.test/approvals/${third.approval_id}`);
    expect((await again('db', 'v6')).approve_url).toBeUndefined();
  });

  it('answers 404 for ids it does not know and is off when no approver is configured', async () => {
    expect((await get('/approvals/apr_doesnotexist')).status).toBe(404);
    expect((await get('/approvals/not-an-id')).status).toBe(404);
    const bare = makeTestEnv();
    const off = await serveHttp(bare);
    try {
      const r = await rawRequest(`${new URL(off.url!).origin}/approvals`, {
        headers: { Authorization: basic('alice', ALICE) },
      });
      expect(r.status).toBe(404);
      expect(r.body).toContain('http.approvers');
    } finally {
      await off.close();
      bare.cleanup();
    }
  });
});
