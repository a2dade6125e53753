import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type ServeHandle } from '../../src/cli/serve.js';
import { HTTP_LIMIT_DEFAULTS } from '../../src/config/schema.js';
import { HttpConfigError, startHttpServer, type HttpServerHandle } from '../../src/http/http-server.js';
import { silentLogger } from '../../src/core/log.js';
import { allAudit } from '../fixtures/audit-records.js';
import { MCP_HEADERS, rawRequest, rpc } from '../fixtures/raw-http.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites } from '../fixtures/test-tools.js';
import { serveHttp } from '../fixtures/serve-http.js';

const MAX_BODY = 8192;

async function connect(url: string, token?: string): Promise<Client> {
  const client = new Client({ name: 'http-e2e', version: '1.0.0' });
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

describe('Streamable HTTP', () => {
  let t: TestEnv;
  let h: ServeHandle;
  let url: string;
  let origin: string;

  beforeAll(async () => {
    t = makeTestEnv({ http: { max_body_bytes: MAX_BODY, allowed_origins: ['https://ops.example.com'] } });
    h = await serveHttp(t, { DAY2_PRINCIPAL: 'agent-h' });
    url = h.url!;
    origin = new URL(url).origin;
  });
  afterAll(async () => {
    await h?.close();
    t?.cleanup();
  });

  it('runs the approval flow through a real SDK client', async () => {
    const client = await connect(url);
    const names = (await client.listTools()).tools.map((x) => x.name);
    expect(names).toEqual(
      expect.arrayContaining(['get_approval', 'search_audit', 'test_write', 'test_slow']),
    );
    const args = { env: 'prod', target: 'web', value: 'h1' };
    const asked = (await client.callTool({ name: 'test_write', arguments: args })) as CallToolResult;
    const sc = asked.structuredContent as { status: string; approval_id: string };
    expect(sc.status).toBe('approval_required');
    const approved = await h.runtime.approvals.approve(sc.approval_id, 'alice', { channel: 'cli' });
    const got = (await client.callTool({
      name: 'get_approval',
      arguments: { approval_id: sc.approval_id },
    })) as CallToolResult;
    expect(approved.status).toBe('approved');
    const token = (got.structuredContent as { approval_token?: string }).approval_token;
    expect(token).toMatch(/^d2t_/);
    const done = (await client.callTool({
      name: 'test_write',
      arguments: { ...args, approval_token: token },
    })) as CallToolResult;
    expect((done.structuredContent as { status: string }).status).toBe('executed');
    expect(backendWrites(t.backendFile)).toHaveLength(1);
    await client.close();
    await h.runtime.auditLog.flush();
    const exec = (await allAudit(h.runtime.deps.store)).filter((r) => r.event === 'tool.execute');
    expect(exec).toHaveLength(1);
    expect(exec[0]).toMatchObject({ principal: 'agent-h', transport: 'http', tool: 'test_write' });
  });

  it('answers /healthz without auth', async () => {
    const r = await rawRequest(`${origin}/healthz`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({
      status: 'ok',
      version: '0.1.0',
      store: 'ok',
      audit_lag: expect.any(Number),
    });
  });

  it('refuses a foreign Host header with 403', async () => {
    const r = await rawRequest(url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, Host: `evil.example:${new URL(url).port}` },
      body: rpc('tools/list', {}),
    });
    expect(r.status).toBe(403);
    expect((await rawRequest(`${origin}/healthz`, { headers: { Host: 'rebind.example' } })).status).toBe(403);
  });

  it('refuses a foreign Origin with 403 and accepts configured and loopback origins', async () => {
    const body = rpc('tools/list', {});
    expect(
      (
        await rawRequest(url, {
          method: 'POST',
          headers: { ...MCP_HEADERS, Origin: 'https://evil.example' },
          body,
        })
      ).status,
    ).toBe(403);
    expect(
      (await rawRequest(url, { method: 'POST', headers: { ...MCP_HEADERS, Origin: 'null' }, body })).status,
    ).toBe(403);
    expect(
      (
        await rawRequest(url, {
          method: 'POST',
          headers: { ...MCP_HEADERS, Origin: 'https://ops.example.com' },
          body,
        })
      ).status,
    ).toBe(200);
    expect(
      (await rawRequest(url, { method: 'POST', headers: { ...MCP_HEADERS, Origin: origin }, body })).status,
    ).toBe(200);
  });

  it('refuses an oversized body with 413, with or without Content-Length', async () => {
    const big = rpc('tools/call', {
      name: 'test_write',
      arguments: { env: 'prod', target: 'web', value: 'x'.repeat(MAX_BODY) },
    });
    expect((await rawRequest(url, { method: 'POST', headers: MCP_HEADERS, body: big })).status).toBe(413);
    expect(
      (await rawRequest(url, { method: 'POST', headers: MCP_HEADERS, body: big, chunked: true })).status,
    ).toBe(413);
    expect(backendWrites(t.backendFile)).toHaveLength(1);
  });

  it('answers GET /mcp with 405 and bad JSON with a parse error', async () => {
    expect((await rawRequest(url, { headers: { Accept: 'text/event-stream' } })).status).toBe(405);
    const bad = await rawRequest(url, { method: 'POST', headers: MCP_HEADERS, body: '{"jsonrpc":' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: -32700 } });
  });

  it('streams progress notifications to a client that asked for them', async () => {
    const client = await connect(url);
    const seen: number[] = [];
    const r = (await client.callTool({ name: 'test_slow', arguments: { steps: 3, step_ms: 10 } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    })) as CallToolResult;
    expect(r.structuredContent).toEqual({ completed: 3 });
    expect(seen).toEqual([1, 2, 3]);
    await client.close();
  });

  it('a client that hangs up cancels the running handler (ctx.signal)', async () => {
    const ac = new AbortController();
    const before = await cancelledCount(h);
    await startSlowCall(url, 7, ac.signal);
    ac.abort();
    expect(await waitForCancelledAudit(h, (n) => n > before)).toBe(true);
  });

  it('an SDK client that aborts a call stops its handler', async () => {
    const client = await connect(url);
    const before = await cancelledCount(h);
    const ac = new AbortController();
    let progressed = 0;
    const call = client.callTool({ name: 'test_slow', arguments: { steps: 100, step_ms: 50 } }, undefined, {
      signal: ac.signal,
      onprogress: () => void progressed++,
    });
    while (progressed < 2) await new Promise((r) => setTimeout(r, 20));
    ac.abort('operator changed their mind');
    await expect(call).rejects.toThrow();
    // This call's own cancellation, not an earlier test's: the count must grow.
    expect(await waitForCancelledAudit(h, (n) => n > before)).toBe(true);
    await client.close();
  });

  it("a notifications/cancelled POST reaches the request it names and ends that request's POST", async () => {
    const started = await startSlowCall(url, 41);
    const reader = started.reader;
    let text = started.text;
    const before = await cancelledCount(h);
    const cancel = (requestId: number) =>
      rawRequest(url, {
        method: 'POST',
        headers: MCP_HEADERS,
        body: JSON.stringify({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId, reason: 'test' },
        }),
      });
    // An id nobody has in flight changes nothing.
    expect((await cancel(9999)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 150));
    expect(await cancelledCount(h)).toBe(before);
    // The id in flight: the handler stops and the open response ends without an answer.
    expect((await cancel(41)).status).toBe(202);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).not.toContain('"result"');
    expect(await waitForCancelledAudit(h, (n) => n > before)).toBe(true);
  });

  it('neither advertises nor accepts resource subscriptions, which stateless HTTP cannot deliver', async () => {
    const client = await connect(url);
    expect(client.getServerCapabilities()?.resources).toBeDefined();
    expect(client.getServerCapabilities()?.resources?.subscribe).toBeFalsy();
    await client.close();
    const r = await rawRequest(url, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: rpc('resources/subscribe', { uri: 'day2://alerts' }),
    });
    expect(JSON.parse(r.body)).toMatchObject({
      error: { code: -32600, message: expect.stringContaining('stateless HTTP') },
    });
  });

  it('exposes Prometheus metrics', async () => {
    const r = await rawRequest(`${origin}/metrics`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('day2_tool_calls_total{tool="test_write",outcome="ok"}');
    expect(r.body).toMatch(/day2_http_requests_total\{path="\/mcp",status="403"\} \d+/);
    expect(r.body).toContain('day2_tool_call_duration_seconds_count{tool="test_slow"}');
  });

  describe('bearer tokens', () => {
    const TOKEN = 'e2e-token-0123456789';
    const HASHED = 'second-token-abcdef';
    let open: HttpServerHandle;
    let loop: HttpServerHandle;

    beforeAll(async () => {
      const base = {
        runtime: h.runtime,
        auditLog: h.runtime.auditLog,
        selection: {},
        env: { DAY2_E2E_TOKEN: TOKEN },
        localPrincipal: 'nobody',
        log: silentLogger,
      };
      const tokens = [
        { principal: 'svc-deployer', token_env: 'DAY2_E2E_TOKEN' },
        { principal: 'svc-auditor', token_sha256: createHash('sha256').update(HASHED).digest('hex') },
      ];
      const http = {
        host: '0.0.0.0',
        port: 0,
        allowed_hosts: [],
        allowed_origins: [],
        tokens,
        approvers: [],
        max_body_bytes: MAX_BODY,
        ...HTTP_LIMIT_DEFAULTS,
      };
      // Bound to every interface but only ever reached on 127.0.0.1.
      open = await startHttpServer({ ...base, http });
      loop = await startHttpServer({ ...base, http: { ...http, host: '127.0.0.1' } });
    });
    afterAll(async () => {
      await open?.close();
      await loop?.close();
    });

    it('refuses to bind a non-loopback address without tokens', async () => {
      await expect(
        startHttpServer({
          runtime: h.runtime,
          selection: {},
          env: {},
          localPrincipal: 'x',
          log: silentLogger,
          http: {
            host: '0.0.0.0',
            port: 0,
            allowed_hosts: [],
            allowed_origins: [],
            tokens: [],
            approvers: [],
            max_body_bytes: MAX_BODY,
            ...HTTP_LIMIT_DEFAULTS,
          },
        }),
      ).rejects.toBeInstanceOf(HttpConfigError);
    });

    it('answers 401 with WWW-Authenticate for a missing or invalid bearer, on and off loopback', async () => {
      for (const server of [open, loop]) {
        const u = `http://127.0.0.1:${server.port}/mcp`;
        const missing = await rawRequest(u, {
          method: 'POST',
          headers: MCP_HEADERS,
          body: rpc('tools/list', {}),
        });
        expect(missing.status).toBe(401);
        expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
        const wrong = await rawRequest(u, {
          method: 'POST',
          headers: { ...MCP_HEADERS, Authorization: 'Bearer nope' },
          body: rpc('tools/list', {}),
        });
        expect(wrong.status).toBe(401);
        expect((await rawRequest(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(401);
        expect((await rawRequest(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
      }
    });

    it('maps each bearer to its principal', async () => {
      for (const [token, principal] of [
        [TOKEN, 'svc-deployer'],
        [HASHED, 'svc-auditor'],
      ] as const) {
        const client = await connect(`http://127.0.0.1:${open.port}/mcp`, token);
        const r = (await client.callTool({
          name: 'test_write',
          arguments: { env: 'staging', target: 'web', value: principal },
        })) as CallToolResult;
        const id = (r.structuredContent as { approval_id: string }).approval_id;
        expect((await h.runtime.approvals.get(id))?.requester).toBe(principal);
        await client.close();
      }
      const metrics = await rawRequest(`http://127.0.0.1:${open.port}/metrics`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      expect(metrics.status).toBe(200);
    });
  });
});

/** POSTs a long test_slow call that streams progress, and reads until the first progress arrives. */
async function startSlowCall(url: string, id: number, signal?: AbortSignal) {
  const res = await fetch(url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: rpc(
      'tools/call',
      { name: 'test_slow', arguments: { steps: 100, step_ms: 50 }, _meta: { progressToken: `p${id}` } },
      id,
    ),
    signal,
  });
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('notifications/progress'))
    text += new TextDecoder().decode((await reader.read()).value);
  return { reader, text };
}

async function cancelledCount(h: ServeHandle): Promise<number> {
  await h.runtime.auditLog.flush();
  return (await allAudit(h.runtime.deps.store)).filter(
    (r) => r.tool === 'test_slow' && r.outcome?.error === 'cancelled',
  ).length;
}

async function waitForCancelledAudit(h: ServeHandle, ok: (n: number) => boolean): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (ok(await cancelledCount(h))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
