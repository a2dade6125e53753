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
const WEB_SECRET = 'approval-page-client-secret';
/** Approvals for test_write count on the page, and never the requester's own. */
const PAGE_POLICY = {
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
};

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
  const h = await serveHttp(t, {
    DAY2_PRINCIPAL: 'local-user',
    DAY2_TEST_STATIC: STATIC_TOKEN,
    DAY2_TEST_WEB_SECRET: WEB_SECRET,
    DAY2_TEST_SESSION_KEY: 'a-session-key-of-32-characters-or-more',
  });
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
      policy: PAGE_POLICY,
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
  it('lets a token with the approve scope decide, and no other: the agent asks, a person approves', async () => {
    const { id, agentToken } = await askApproval(w, 'p1');
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

describe('OpenID Connect sign-in on the approval page', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({}, (issuer) => ({
      http: {
        oauth: {
          issuer,
          approval_login: {
            client_id: 'day2-approvals',
            client_secret_env: 'DAY2_TEST_WEB_SECRET',
            session_key_env: 'DAY2_TEST_SESSION_KEY',
          },
        },
      },
      policy: PAGE_POLICY,
    }));
    w.as.registerWebClient('day2-approvals', WEB_SECRET, `${w.origin}/approvals/callback`);
  });
  afterAll(() => stopWorld(w));

  it('signs a person in with authorization code + PKCE, and they approve', async () => {
    const { id } = await askApproval(w, 'q1');

    const browser = new Browser();
    const first = await browser.go(`${w.origin}/approvals/${id}`);
    expect(first.status).toBe(401);
    const link = /href="(\/approvals\/login\?next=[^"]+)"/.exec(first.body)?.[1];
    expect(link).toBeDefined();
    // To the issuer, through its login and consent pages as alice, and back.
    let at = await browser.go(`${w.origin}${link!.replace(/&amp;/g, '&')}`);
    for (let step = 0; step < 4 && at.url.startsWith(w.as.issuer); step++) {
      const action = /<form[^>]*action="([^"]+)"/.exec(at.body)?.[1];
      expect(action, at.body).toBeDefined();
      const fields: Record<string, string> = {};
      for (const m of at.body.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
        fields[m[1]!] = m[2]!;
      if (at.body.includes('name="login"')) Object.assign(fields, { login: 'alice', password: 'any' });
      at = await browser.go(new URL(action!, at.url).href, new URLSearchParams(fields).toString());
    }
    expect(at.url).toBe(`${w.origin}/approvals/${id}`);
    expect(at.status).toBe(200);
    expect(at.body).toContain('Approve as alice');

    const done = await browser.go(
      `${w.origin}/approvals/${id}`,
      new URLSearchParams({ ...formOf(at.body), decision: 'approve' }).toString(),
      { follow: false },
    );
    expect(done.status).toBe(303);
    const approved = (await w.h.runtime.deps.store.getApproval(id))!;
    expect(approved.status).toBe('approved');
    expect(JSON.stringify(approved)).toContain('alice');

    // Another browser has no session: the cookie is what signs alice in.
    expect((await new Browser().go(`${w.origin}/approvals/${id}`)).status).toBe(401);
  });

  it('will not start without a session key long enough to encrypt sign-in cookies', async () => {
    const t = makeTestEnv({
      http: {
        oauth: {
          issuer: w.as.issuer,
          approval_login: { client_id: 'day2-approvals', session_key_env: 'DAY2_TEST_SESSION_KEY' },
        },
      },
    });
    try {
      await expect(serveHttp(t, { DAY2_TEST_SESSION_KEY: 'too-short' })).rejects.toThrow(
        /session_key_env: DAY2_TEST_SESSION_KEY must hold a secret of 32 characters or more/,
      );
    } finally {
      t.cleanup();
    }
  });

  it('refuses a callback that no sign-in here started, and a state that does not match', async () => {
    const stray = await new Browser().go(`${w.origin}/approvals/callback?code=abc&state=xyz`);
    expect(stray.status).toBe(400);
    const browser = new Browser();
    const started = await browser.go(`${w.origin}/approvals/login?next=/approvals`, undefined, {
      follow: false,
    });
    expect(started.status).toBe(302);
    const to = new URL(started.location!);
    expect(to.origin).toBe(w.as.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('resource')).toBe(w.url);
    expect(to.searchParams.get('scope')).toBe(`openid email ${APPROVE}`);
    const forged = await browser.go(`${w.origin}/approvals/callback?code=abc&state=not-the-state`);
    expect(forged.status).toBe(400);
    expect(forged.body).toContain('does not match');
  });
});

/** An agent's write call that needs approval: the request's id, and the agent's token. */
async function askApproval(w: World, value: string): Promise<{ id: string; agentToken: string }> {
  const agentToken = await w.as.mint({ sub: 'ops-agent', aud: w.url, scope: `${READ} ${WRITE}` });
  const asked = await rawRequest(w.url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, Authorization: `Bearer ${agentToken}` },
    body: rpc('tools/call', { name: 'test_write', arguments: { env: 'prod', target: 'web', value } }),
  });
  expect(asked.status).toBe(200);
  const result = JSON.parse(asked.body) as { result: { structuredContent: { approval_id: string } } };
  return { id: result.result.structuredContent.approval_id, agentToken };
}

/** The hidden fields of an approval page's decision form. */
function formOf(body: string): { digest: string; form_token: string } {
  return {
    digest: /name="digest" value="([0-9a-f]{64})"/.exec(body)?.[1] ?? '',
    form_token: /name="form_token" value="([0-9a-f]{64})"/.exec(body)?.[1] ?? '',
  };
}

/** A browser enough for sign-in flows: a cookie jar per host, redirects followed, forms posted. */
class Browser {
  private readonly jars = new Map<string, Map<string, string>>();

  async go(
    url: string,
    form?: string,
    opts: { follow?: boolean } = {},
  ): Promise<{ url: string; status: number; body: string; location?: string }> {
    let at = url;
    let body = form;
    for (let hop = 0; hop < 20; hop++) {
      const u = new URL(at);
      const jar = this.jars.get(u.host) ?? new Map<string, string>();
      this.jars.set(u.host, jar);
      const headers: Record<string, string> = {};
      if (jar.size) headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      if (body !== undefined) {
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        headers.Origin = u.origin;
      }
      const res = await fetch(at, {
        method: body === undefined ? 'GET' : 'POST',
        headers,
        body,
        redirect: 'manual',
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq).trim();
        const value = pair!.slice(eq + 1).trim();
        if (value && !/max-age=0\b/i.test(c) && !/expires=Thu, 01 Jan 1970/i.test(c)) jar.set(name, value);
        else jar.delete(name);
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && opts.follow !== false) {
        await res.arrayBuffer();
        at = new URL(location, at).href;
        body = undefined;
        continue;
      }
      return { url: at, status: res.status, body: await res.text(), ...(location ? { location } : {}) };
    }
    throw new Error(`too many redirects from ${url}`);
  }
}
