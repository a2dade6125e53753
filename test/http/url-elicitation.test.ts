import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  ElicitRequestSchema,
  ElicitationCompleteNotificationSchema,
  type CallToolResult,
  type ElicitRequestURLParams,
  type ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServeHandle } from '../../src/cli/serve.js';
import { createServer } from '../../src/server/create-server.js';
import { allAudit } from '../fixtures/audit-records.js';
import { rawRequest } from '../fixtures/raw-http.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites } from '../fixtures/test-tools.js';
import { serveHttp } from '../fixtures/serve-http.js';

// Issue 16 item 4, URL-mode elicitation (MCP 2025-11-25): where the client can open a page for its
// user and the rule takes the approval page, day2 asks it to open approve_url; a human approves
// there, authenticated, and the write runs in the same call. The client never answers for the
// human: its handler only opens the page, and the page is where an approver decides.

const ALICE = 'alice-approver-token-0001';
const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

describe('URL-mode elicitation opens the approval page', () => {
  let t: TestEnv;
  let h: ServeHandle;
  let base: string;
  const clients: Client[] = [];
  /** Approvals the page recorded in the background, to await before the test ends. */
  const pending: Promise<unknown>[] = [];

  beforeAll(async () => {
    t = makeTestEnv({
      policy: {
        version: 'url-1',
        rules: [
          {
            id: 'page-ok',
            match: { tool: 'test_write', tier: 'production' },
            decision: 'require_approval',
            distinct_from_requester: true,
            channels: ['cli', 'http'],
          },
          { id: 'cli-only', match: { tool: 'test_write' }, decision: 'require_approval' },
        ],
      },
      http: {
        public_url: 'https://day2.example.test',
        approvers: [{ principal: 'alice', token_env: 'DAY2_TEST_ALICE' }],
      },
    });
    h = await serveHttp(t, { DAY2_PRINCIPAL: 'agent-h', DAY2_TEST_ALICE: ALICE });
    base = new URL(h.url!).origin;
  });
  afterEach(async () => {
    await Promise.all(pending.splice(0));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await h?.close();
    t?.cleanup();
  });

  /** A human at the page: reads it as alice, then posts her decision, as a browser would. */
  async function decideOnPage(url: string, decision: 'approve' | 'deny', reason: string) {
    const path = new URL(url).pathname;
    const page = await rawRequest(`${base}${path}`, { headers: { Authorization: basic('alice', ALICE) } });
    expect(page.status).toBe(200);
    const form = {
      digest: /name="digest" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '',
      form_token: /name="form_token" value="([0-9a-f]{64})"/.exec(page.body)?.[1] ?? '',
    };
    const done = await rawRequest(`${base}${path}`, {
      method: 'POST',
      headers: {
        Authorization: basic('alice', ALICE),
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: base,
      },
      body: new URLSearchParams({ ...form, decision, reason }).toString(),
    });
    expect(done.status).toBe(303);
  }

  /** An SDK client over the serve's runtime that declares URL-mode elicitation only. */
  async function agentWith(onUrl: (p: ElicitRequestURLParams) => ElicitResult) {
    const server = createServer(h.runtime, { principal: { id: 'agent-h', transport: 'stdio' } });
    const client = new Client(
      { name: 'url-agent', version: '1.0.0' },
      { capabilities: { elicitation: { url: {} } } },
    );
    const asked: ElicitRequestURLParams[] = [];
    const completed: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      const p = req.params as ElicitRequestURLParams;
      asked.push(p);
      return onUrl(p);
    });
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => {
      completed.push(n.params.elicitationId);
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(a), client.connect(b)]);
    clients.push(client);
    return { client, asked, completed };
  }

  const write = (client: Client, value: string) =>
    client.callTool({
      name: 'test_write',
      arguments: { env: 'prod', target: 'web', value },
    }) as Promise<CallToolResult>;

  it('asks the client to open approve_url; approved there by an approver, the production write runs in the same call', async () => {
    const agent = await agentWith((p) => {
      // The user agrees to open the page; the approver decides there a moment later.
      pending.push(new Promise((r) => setTimeout(r, 300)).then(() => decideOnPage(p.url, 'approve', 'ok')));
      return { action: 'accept' };
    });
    const before = backendWrites(t.backendFile).length;
    const r = await write(agent.client, 'v1');
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ status: 'executed' });
    expect(backendWrites(t.backendFile).length).toBe(before + 1);

    expect(agent.asked).toHaveLength(1);
    const asked = agent.asked[0]!;
    expect(asked.mode).toBe('url');
    expect(asked.url).toBe(`https://day2.example.test/approvals/${asked.elicitationId}`);
    expect(asked.message).toMatch(/test_write in prod needs 1 approval\(s\), not by agent-h/);
    const approval = (await h.runtime.deps.store.getApproval(asked.elicitationId))!;
    expect(approval.status).toBe('consumed');
    expect(approval.decisions).toMatchObject([{ principal: 'alice', channel: 'http' }]);
    expect(agent.completed).toEqual([asked.elicitationId]);

    await h.runtime.auditLog.flush();
    const records = (await allAudit(h.runtime.deps.store)).filter(
      (e) => e.approval?.id === asked.elicitationId,
    );
    expect(records.map((e) => e.event)).toEqual(
      expect.arrayContaining(['tool.approval_required', 'approval.approved', 'tool.execute', 'tool.outcome']),
    );
  }, 30_000);

  it('a denial on the page refuses the call; a user who declines to open it gets the usual approval_required', async () => {
    const denying = await agentWith((p) => {
      pending.push(decideOnPage(p.url, 'deny', 'not today'));
      return { action: 'accept' };
    });
    const before = backendWrites(t.backendFile).length;
    const denied = await write(denying.client, 'v2');
    expect(denied.isError).toBe(true);
    expect((denied.content as { text: string }[])[0]!.text).toMatch(
      /denied on the approval page by alice: not today/,
    );

    const declining = await agentWith(() => ({ action: 'decline' }));
    const asked = await write(declining.client, 'v3');
    expect(asked.isError).toBeFalsy();
    expect(asked.structuredContent).toMatchObject({ status: 'approval_required' });
    expect((asked.content as { text: string }[])[0]!.text).toMatch(
      /asked to open the approval page \(the user chose decline\)/,
    );
    expect(backendWrites(t.backendFile).length).toBe(before);
  }, 30_000);

  it('never uses a form-mode confirm: a client with form elicitation only gets approval_required for a production write', async () => {
    const server = createServer(h.runtime, { principal: { id: 'agent-h', transport: 'stdio' } });
    const client = new Client(
      { name: 'form-agent', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    let asked = 0;
    client.setRequestHandler(ElicitRequestSchema, () => {
      asked++;
      return { action: 'accept', content: { confirm: true } };
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(a), client.connect(b)]);
    clients.push(client);
    const r = await write(client, 'v4');
    expect(r.structuredContent).toMatchObject({ status: 'approval_required' });
    expect(asked).toBe(0);
  });
});
