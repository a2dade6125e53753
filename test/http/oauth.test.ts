import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServeHandle } from '../../src/cli/serve.js';
import { allAudit } from '../fixtures/audit-records.js';
import { TestAuthorizationServer } from '../fixtures/authorization-server.js';
import { MCP_HEADERS, rawRequest, rpc } from '../fixtures/raw-http.js';
import { serveHttp } from '../fixtures/serve-http.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites } from '../fixtures/test-tools.js';

const READ = 'day2:read';
const WRITE = 'day2:write';
const APPROVE = 'day2:approve';
const STATIC_TOKEN = 'static-bearer-token-0001';

/** An authorization server on loopback and day2 over HTTP taking its tokens. */
interface World {
  as: TestAuthorizationServer;
  t: TestEnv;
  h: ServeHandle;
  url: string;
  origin: string;
}

async function startWorld(
  clients: ConstructorParameters<typeof TestAuthorizationServer>[0],
  config: (issuer: string) => Record<string, unknown>,
): Promise<World> {
  const as = await new TestAuthorizationServer(clients).start();
  const t = makeTestEnv(config(as.issuer));
  const h = await serveHttp(t, { DAY2_PRINCIPAL: 'local-user', DAY2_TEST_STATIC: STATIC_TOKEN });
  return { as, t, h, url: h.url!, origin: new URL(h.url!).origin };
}

async function stopWorld(w: World | undefined): Promise<void> {
  await w?.h.close();
  await w?.as.stop();
  w?.t.cleanup();
}

describe('OAuth resource server (MCP authorization)', () => {
  let w: World;

  beforeAll(async () => {
    // No jwks_uri: day2 finds it in the issuer's metadata. A short cooldown so that a key the
    // issuer publishes later is fetched within the test.
    w = await startWorld(
      {
        'ops-agent': { secret: 'agent-secret', scopes: [READ, WRITE] },
        'read-agent': { secret: 'reader-secret', scopes: [READ] },
      },
      (issuer) => ({
        http: {
          oauth: { issuer, clock_skew: '2s', jwks_cooldown: 1 },
          tokens: [{ principal: 'static-bot', token_env: 'DAY2_TEST_STATIC' }],
        },
      }),
    );
  });
  afterAll(() => stopWorld(w));

  /** An SDK client that gets its own token from the authorization server it discovers. */
  async function agent(clientId: string, secret: string, scope: string): Promise<Client> {
    const transport = new StreamableHTTPClientTransport(new URL(w.url), {
      authProvider: new ClientCredentialsProvider({
        clientId,
        clientSecret: secret,
        scope,
        expectedIssuer: w.as.issuer,
      }),
    });
    const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
    await client.connect(transport);
    return client;
  }

  function post(token: string | undefined, body: string): ReturnType<typeof rawRequest> {
    return rawRequest(w.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body,
    });
  }
  const listTools = rpc('tools/list', {});
  const writeCall = rpc('tools/call', {
    name: 'test_write',
    arguments: { env: 'prod', target: 'web', value: 'o1' },
  });
  const metadataUrl = () => `${w.origin}/.well-known/oauth-protected-resource/mcp`;

  it('serves protected resource metadata at the path-suffixed and the root address', async () => {
    for (const at of [metadataUrl(), `${w.origin}/.well-known/oauth-protected-resource`]) {
      const r = await rawRequest(at);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({
        resource: w.url,
        authorization_servers: [w.as.issuer],
        scopes_supported: [READ, WRITE, APPROVE],
        bearer_methods_supported: ['header'],
        resource_name: 'day2',
      });
    }
  });

  it('answers a request without a token 401 with the metadata address and the scope to ask for', async () => {
    const r = await post(undefined, listTools);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(
      `Bearer scope="${READ}", resource_metadata="${metadataUrl()}"`,
    );
  });

  it("lets the SDK client's own OAuth flow discover day2, get a token and call tools", async () => {
    const issuedBefore = w.as.tokensIssued;
    const client = await agent('ops-agent', 'agent-secret', `${READ} ${WRITE}`);
    expect(w.as.tokensIssued).toBe(issuedBefore + 1);
    const names = (await client.listTools()).tools.map((x) => x.name);
    expect(names).toContain('test_write');
    const asked = (await client.callTool({
      name: 'test_write',
      arguments: { env: 'prod', target: 'web', value: 'o2' },
    })) as CallToolResult;
    expect((asked.structuredContent as { status: string }).status).toBe('approval_required');
    await client.close();
    // The principal is the token's subject, and the audit says so; the token went nowhere.
    await w.h.runtime.auditLog.flush();
    const records = await allAudit(w.h.runtime.deps.store);
    const planned = records.filter((r) => r.tool === 'test_write');
    expect(planned.length).toBeGreaterThan(0);
    expect(planned.every((r) => r.principal === 'ops-agent')).toBe(true);
    expect(JSON.stringify(records)).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(backendWrites(w.t.backendFile)).toHaveLength(0);
  });

  it('refuses a write tool to a token without the write scope: 403 insufficient_scope naming it', async () => {
    const client = await agent('read-agent', 'reader-secret', READ);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    // The SDK tries to upscope once; the authorization server does not grant write to this client.
    await expect(
      client.callTool({ name: 'test_write', arguments: { env: 'prod', target: 'web', value: 'o3' } }),
    ).rejects.toThrow(/403/);
    await client.close();

    const token = await w.as.mint({ sub: 'read-agent', aud: w.url, scope: READ });
    const r = await post(token, writeCall);
    expect(r.status).toBe(403);
    expect(r.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", scope="${READ} ${WRITE}", resource_metadata="${metadataUrl()}"`,
    );
    expect(r.body).not.toContain(token);
    // Reading is what the token is for.
    expect((await post(token, listTools)).status).toBe(200);
    expect(backendWrites(w.t.backendFile)).toHaveLength(0);
  });

  it('refuses a token without the read scope, even one that carries approve', async () => {
    const token = await w.as.mint({ sub: 'approver', aud: w.url, scope: APPROVE });
    const r = await post(token, listTools);
    expect(r.status).toBe(403);
    expect(r.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", scope="${READ}", resource_metadata="${metadataUrl()}"`,
    );
  });

  const invalid = (description: string) =>
    `Bearer error="invalid_token", error_description="${description}", resource_metadata="${metadataUrl()}"`;

  it.each([
    ['another audience', { aud: 'http://127.0.0.1:1/mcp' }, 'the token is for another resource'],
    ['another issuer', { iss: 'http://127.0.0.1:2' }, 'the token was issued by another authorization server'],
    [
      'an expired token',
      { exp: Math.floor(Date.now() / 1000) - 60, iat: Math.floor(Date.now() / 1000) - 400 },
      'the token has expired',
    ],
    ['a token not valid yet', { nbf: Math.floor(Date.now() / 1000) + 120 }, 'the token is not valid yet'],
    ['a token without a subject', { sub: '' }, 'the token has no sub claim naming its holder'],
  ])('refuses %s: 401 invalid_token', async (_name, claims, description) => {
    const token = await w.as.mint({ sub: 'ops-agent', aud: w.url, scope: `${READ} ${WRITE}`, ...claims });
    const r = await post(token, listTools);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(invalid(description));
    expect(r.body).not.toContain(token);
  });

  it('accepts exp and nbf within the clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await w.as.mint({ sub: 'ops-agent', aud: w.url, scope: READ, exp: now - 1, nbf: now + 1 });
    expect((await post(token, listTools)).status).toBe(200);
  });

  it('refuses a token whose signature does not verify', async () => {
    // Signed by another key that claims the published key's id.
    const forged = await w.as.mint(
      { sub: 'ops-agent', aud: w.url, scope: READ },
      await w.as.unpublishedKey('k1'),
    );
    const r = await post(forged, listTools);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(invalid('the token signature does not verify'));
    // And one whose payload was changed after signing.
    const good = await w.as.mint({ sub: 'read-agent', aud: w.url, scope: READ });
    const [head, , sig] = good.split('.');
    const payload = Buffer.from(
      JSON.stringify({ ...decodePayload(good), scope: `${READ} ${WRITE}` }),
    ).toString('base64url');
    expect((await post(`${head}.${payload}.${sig}`, listTools)).status).toBe(401);
  });

  it('refetches the JWKS for an unknown kid, takes a newly published key and refuses a really unknown one', async () => {
    expect(
      (await post(await w.as.mint({ sub: 'ops-agent', aud: w.url, scope: READ }), listTools)).status,
    ).toBe(200);
    const fetched = w.as.jwksFetches;
    await w.as.publishKey('k2');
    const rotated = await w.as.mint({ sub: 'ops-agent', aud: w.url, scope: READ });
    expect((await post(rotated, listTools)).status).toBe(200);
    expect(w.as.jwksFetches).toBe(fetched + 1);
    // The cached set now holds k2: no fetch for it again.
    expect((await post(rotated, listTools)).status).toBe(200);
    expect(w.as.jwksFetches).toBe(fetched + 1);

    await new Promise((r) => setTimeout(r, 5));
    const stranger = await w.as.mint(
      { sub: 'ops-agent', aud: w.url, scope: READ },
      await w.as.unpublishedKey('k9'),
    );
    const r = await post(stranger, listTools);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(
      invalid('the token is signed with a key the issuer does not publish'),
    );
    expect(w.as.jwksFetches).toBe(fetched + 2);
  });

  it('keeps static bearer tokens working beside OAuth: they read and write as before', async () => {
    expect((await post(STATIC_TOKEN, listTools)).status).toBe(200);
    const r = await post(STATIC_TOKEN, writeCall);
    expect(r.status).toBe(200);
    expect(r.body).toContain('approval_required');
    await w.h.runtime.auditLog.flush();
    const records = await allAudit(w.h.runtime.deps.store);
    expect(records.some((x) => x.principal === 'static-bot' && x.tool === 'test_write')).toBe(true);
  });

  it('refuses a token that is not a JWT, and /metrics wants a token too', async () => {
    const r = await post('not-a-jwt', listTools);
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(invalid('the token is not a valid JWT access token'));
    expect((await rawRequest(`${w.origin}/metrics`)).status).toBe(401);
    const token = await w.as.mint({ sub: 'ops-agent', aud: w.url, scope: READ });
    expect(
      (await rawRequest(`${w.origin}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });
});

describe('OAuth on the approval page', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({}, (issuer) => ({
      http: { oauth: { issuer, jwks_uri: `${issuer}/jwks` } },
      policy: {
        version: 'oauth-page-1',
        rules: [
          {
            id: 'page-ok',
            match: { tool: 'test_write' },
            decision: 'require_approval',
            distinct_from_requester: true,
            channels: ['cli', 'http'],
          },
        ],
      },
    }));
  });
  afterAll(() => stopWorld(w));

  const page = (token: string, path: string) =>
    rawRequest(`${w.origin}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const decide = (token: string, path: string, form: Record<string, string>) =>
    rawRequest(`${w.origin}${path}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: w.origin,
      },
      body: new URLSearchParams(form).toString(),
    });
  const formOf = (body: string) => ({
    digest: /name="digest" value="([0-9a-f]{64})"/.exec(body)?.[1] ?? '',
    form_token: /name="form_token" value="([0-9a-f]{64})"/.exec(body)?.[1] ?? '',
  });

  it('lets a token with the approve scope decide, and no other: the agent asks, a person approves', async () => {
    const agentToken = await w.as.mint({ sub: 'ops-agent', aud: w.url, scope: `${READ} ${WRITE}` });
    const asked = await rawRequest(w.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${agentToken}` },
      body: rpc('tools/call', { name: 'test_write', arguments: { env: 'prod', target: 'web', value: 'p1' } }),
    });
    expect(asked.status).toBe(200);
    const id = (JSON.parse(asked.body) as { result: { structuredContent: { approval_id: string } } }).result
      .structuredContent.approval_id;
    const path = `/approvals/${id}`;

    // The agent's own token carries no approve scope: 403 naming the scope.
    const refused = await page(agentToken, path);
    expect(refused.status).toBe(403);
    expect(refused.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", scope="${APPROVE}", resource_metadata="${w.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    // A token from elsewhere is no sign-in either.
    const stranger = await w.as.mint(
      { sub: 'alice', aud: w.url, scope: APPROVE },
      await w.as.unpublishedKey('k7'),
    );
    expect((await page(stranger, path)).status).toBe(401);

    // The requester, even holding the approve scope, is not a distinct approver.
    const selfApprover = await w.as.mint({
      sub: 'ops-agent',
      aud: w.url,
      scope: `${READ} ${WRITE} ${APPROVE}`,
    });
    const selfPage = await page(selfApprover, path);
    expect(selfPage.status).toBe(200);
    const selfDecision = await decide(selfApprover, path, { ...formOf(selfPage.body), decision: 'approve' });
    expect(selfDecision.status).toBe(409);
    expect((await w.h.runtime.deps.store.getApproval(id))!.status).toBe('pending');

    const alice = await w.as.mint({ sub: 'alice', aud: w.url, scope: APPROVE, email: 'alice@example.com' });
    const shown = await page(alice, path);
    expect(shown.status).toBe(200);
    expect(shown.body).toContain('Approve as alice');
    // A form token is bound to the token that read the page.
    const otherAlice = await w.as.mint({ sub: 'alice', aud: w.url, scope: APPROVE, jti: 'another' });
    expect((await decide(otherAlice, path, { ...formOf(shown.body), decision: 'approve' })).status).toBe(403);
    const done = await decide(alice, path, { ...formOf(shown.body), decision: 'approve' });
    expect(done.status).toBe(303);
    const approved = (await w.h.runtime.deps.store.getApproval(id))!;
    expect(approved.status).toBe('approved');
    expect(JSON.stringify(approved)).toContain('alice');
    expect(JSON.stringify(approved)).not.toContain(alice);
  });
});

function decodePayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
