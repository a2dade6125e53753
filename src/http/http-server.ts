import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCNotification, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Config } from '../config/schema.js';
import { createServer } from '../server/create-server.js';
import type { Logger } from '../core/log.js';
import type { Runtime } from '../server/runtime.js';
import { selectTools, type ToolSelection } from '../server/tool-catalog.js';
import { VERSION } from '../core/version.js';
import { trimWhenIdle } from '../server/idle-trim.js';
import { APPROVALS_PATH } from '../guards/approval-link.js';
import { ApprovalPage } from './approval-page.js';
import { BearerAuth } from './bearer-auth.js';
import { ConnectionCap } from './connection-cap.js';
import { isLoopback, OriginPolicy } from './host-check.js';
import { InFlight } from './in-flight.js';
import { Metrics } from './metrics.js';
import { OAuthResource, type Right } from './oauth-resource.js';
import { ApproverLogin } from './approver-login.js';
import { observeToolCalls } from './observe-tool-calls.js';
import { BodyTooLargeError, readBody } from './read-body.js';

export interface HttpServerOptions {
  runtime: Runtime;
  /** How far the audit writer is behind, for /healthz; see auditLagMs. */
  auditLog?: { flush(): Promise<void>; lastError?: unknown };
  selection: ToolSelection;
  http: Config['http'];
  env: NodeJS.ProcessEnv;
  /** The principal of unauthenticated loopback requests when no tokens are configured. */
  localPrincipal: string;
  log: Logger;
}

export interface HttpServerHandle {
  /** The MCP endpoint, e.g. http://127.0.0.1:8787/mcp. */
  url: string;
  port: number;
  metrics: Metrics;
  close(): Promise<void>;
}

/** The bind address is not loopback and no bearer token is configured: refused at start. */
export class HttpConfigError extends Error {
  override name = 'HttpConfigError';
}

/**
 * day2 over Streamable HTTP, stateless: each POST /mcp gets a fresh MCP server over the shared
 * runtime (a cancellation reaches the request it names through InFlight: on this replica, or on
 * another through the runtime's CancelBus). Host and Origin are checked first (403), then the
 * bearer (401), then the body size (413). /healthz needs no token; /metrics does whenever tokens
 * are in force. /approvals is the approval page, for the people in http.approvers (ApprovalPage).
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServerHandle> {
  const { http, log } = opts;
  const auth = new BearerAuth(http.tokens, opts.env, log);
  const loopback = isLoopback(http.host);
  if (!loopback && !auth.configured && !http.oauth) {
    throw new HttpConfigError(
      `http.host ${http.host} is not a loopback address: configure http.tokens (token_env or token_sha256) or http.oauth so that every request carries a bearer token`,
    );
  }
  if (http.oauth && !http.oauth.resource && !http.public_url && !loopback) {
    throw new HttpConfigError(
      'http.oauth: set resource (or http.public_url) to the URI clients reach /mcp at: tokens must name it as their audience',
    );
  }
  const login = http.oauth?.approval_login;
  if (login && (opts.env[login.session_key_env] ?? '').length < 32) {
    throw new HttpConfigError(
      `http.oauth.approval_login.session_key_env: ${login.session_key_env} must hold a secret of 32 characters or more, the same on every replica`,
    );
  }
  const authRequired = !loopback || auth.configured || http.oauth !== undefined;
  let oauth: OAuthResource | undefined;
  const metrics = new Metrics();
  const approvalPage = new ApprovalPage(opts.runtime, http.approvers, opts.env, log);
  const served = selectTools(opts.runtime.tools, opts.selection);
  const knownTools = new Set(served.map((t) => t.name));
  // Tools that plan or make a change (or record one) need the write scope; the rest, read.
  const writeTools = new Set(served.filter((t) => t.effect !== 'read').map((t) => t.name));
  // The address people reach the server at (http.public_url) is one of its hosts and origins.
  const publicUrl = http.public_url ? new URL(http.public_url) : undefined;
  const allowed = {
    allowedHosts: [...http.allowed_hosts, ...(publicUrl ? [publicUrl.host] : [])],
    allowedOrigins: [...http.allowed_origins, ...(publicUrl ? [publicUrl.origin] : [])],
  };
  let origins = new OriginPolicy(http.port, allowed);
  const open = new Set<{ close(): Promise<void> }>();
  const inFlight = new InFlight(log);
  // Cancellations that other replicas had no call for; one that matches nothing here either is
  // dropped, never published again.
  const cancels = opts.runtime.cancelBus();
  const stopHearing = cancels.subscribe(({ principal, requestId }) => {
    inFlight.deliverCancellations(principal, cancelledNotification(requestId));
  });

  // Memory a burst of calls grew goes back once the server has been quiet for a while.
  const idle = trimWhenIdle(log);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    idle.touch();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    res.once('finish', () => metrics.request(knownPath(path), res.statusCode));
    if (!origins.hostAllowed(req.headers.host))
      return plain(res, 403, 'Forbidden: the Host header does not name this server');
    // Public, and read by browser-based clients too: answered before the Origin check.
    if (oauth?.servesMetadata(path, '/mcp') && req.method === 'GET') {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Cache-Control', 'max-age=300');
      return json(res, 200, oauth.metadata());
    }
    if (!origins.originAllowed(req.headers.origin))
      return plain(res, 403, 'Forbidden: this Origin is not allowed');

    if (path === '/healthz' && req.method === 'GET') return json(res, 200, await health(opts));
    // People, not agents: the page signs in approvers on its own (http.approvers), never with a bearer.
    if (ApprovalPage.handles(path)) return approvalPage.handle(req, res, path);

    let principal = opts.localPrincipal;
    let displayName: string | undefined;
    // Static tokens and an open loopback read and write; only an OAuth token's scopes narrow that.
    let rights: ReadonlySet<Right> = new Set<Right>(['read', 'write']);
    if (authRequired) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      const who = auth.principalFor(req.headers.authorization);
      if (who) principal = who.principal;
      else if (oauth && presented) {
        const checked = await oauth.verify(presented);
        if (!checked.ok) {
          log.info('http: an access token was refused', { reason: checked.reason, path });
          if (checked.unavailable)
            return plain(res, 503, `Service unavailable: ${checked.reason}; try again shortly`);
          res.setHeader(
            'WWW-Authenticate',
            oauth.challenge({ error: 'invalid_token', description: checked.reason }),
          );
          return plain(res, 401, `Unauthorized: ${checked.reason}`);
        }
        ({ principal, displayName, rights } = checked.holder);
      } else {
        res.setHeader(
          'WWW-Authenticate',
          oauth ? oauth.challenge({ scope: oauth.scopeFor(['read']) }) : 'Bearer realm="day2"',
        );
        return plain(res, 401, 'Unauthorized: send Authorization: Bearer <token>');
      }
    }
    if (!rights.has('read')) return forbidden(res, oauth, ['read']);

    if (path === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
      return;
    }
    if (path !== '/mcp') return plain(res, 404, 'Not found: the MCP endpoint is /mcp');
    if (req.method !== 'POST') {
      // Stateless: no standalone SSE stream (GET) and no session to delete (DELETE).
      res.setHeader('Allow', 'POST');
      return json(res, 405, {
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed: POST JSON-RPC to /mcp' },
        id: null,
      });
    }

    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, http.max_body_bytes)).toString('utf8'));
      if (!rights.has('write') && callsAny(body, writeTools)) return forbidden(res, oauth, ['read', 'write']);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        res.setHeader('Connection', 'close');
        return plain(res, 413, `Payload too large: the limit is ${err.limit} bytes (http.max_body_bytes)`);
      }
      return json(res, 400, {
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error: the body is not JSON' },
        id: null,
      });
    }

    // A cancellation comes as a POST of its own: hand it to the server answering that request, or,
    // when that request is not in flight here, to the other replicas.
    for (const requestId of inFlight.deliverCancellations(principal, body))
      await cancels.publish(principal, requestId);

    const server = createServer(opts.runtime, {
      principal: { id: principal, transport: 'http' },
      ...opts.selection,
      stateless: true,
    });
    // Progress notifications need a stream; everything else is answered as plain JSON.
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: !wantsProgress(body),
    });
    const session = { close: () => server.close() };
    open.add(session);
    const forget = inFlight.track(
      principal,
      body,
      transport,
      () => void server.close().catch(() => undefined),
    );
    // Closing the server aborts in-flight handlers: a client that hangs up cancels its call.
    res.once('close', () => {
      forget();
      open.delete(session);
      void server.close().catch(() => undefined);
    });
    await server.connect(transport);
    observeToolCalls(transport, metrics, knownTools);
    const authed = req as IncomingMessage & {
      auth?: { token: string; clientId: string; scopes: string[]; extra: Record<string, unknown> };
    };
    // The token stays here: nothing past this point (tools, providers, backends) ever sees it.
    authed.auth = {
      token: '',
      clientId: principal,
      scopes: [...rights],
      extra: { principal, ...(displayName ? { display_name: displayName } : {}) },
    };
    await transport.handleRequest(authed, res, body);
  };

  // Slow clients: a request head must arrive within headers_timeout and the whole request within
  // request_timeout (Node answers 408 and closes); checked every second, not every 30 s (Node's
  // default), or a slowloris outlives its timeout by up to half a minute.
  const server = createHttp(
    {
      headersTimeout: http.headers_timeout,
      requestTimeout: http.request_timeout,
      connectionsCheckingInterval: Math.min(1000, http.headers_timeout),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log.error('http request failed', { error: err, path: req.url });
        if (!res.headersSent) plain(res, 500, 'Internal error; the details are in the day2 log');
        else res.destroy();
      });
    },
  );
  server.keepAliveTimeout = http.keep_alive_timeout;
  new ConnectionCap(
    { perAddress: http.max_connections_per_address, total: http.max_connections },
    metrics,
    log,
  ).attach(server);
  // Serve once cancellations from other replicas can arrive (or the first try to listen failed).
  await cancels.ready;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(http.port, http.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    stopHearing();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  origins = new OriginPolicy(port, allowed);
  const shownHost = http.host.includes(':') ? `[${http.host}]` : http.host;
  if (http.oauth) {
    const resource =
      http.oauth.resource ??
      (publicUrl ? new URL('/mcp', publicUrl).href : `http://${shownHost}:${port}/mcp`);
    oauth = new OAuthResource(http.oauth, resource, log);
    approvalPage.acceptTokens(oauth, login && new ApproverLogin(login, oauth, opts.env, log));
  }
  return {
    url: `http://${shownHost}:${port}/mcp`,
    port,
    metrics,
    async close() {
      idle.stop();
      stopHearing();
      await Promise.all([...open].map((s) => s.close().catch(() => undefined)));
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * How long /healthz waits for the store and for the audit writer. A probe times out after a
 * second by default (Kubernetes), and a locked or slow store must not turn into a failed liveness
 * probe and a restart: it is reported, promptly, as degraded.
 */
const HEALTH_WAIT_MS = 250;

async function health(opts: HttpServerOptions): Promise<Record<string, unknown>> {
  const [store, auditLag] = await Promise.all([
    within(
      opts.runtime.deps.store.auditHead().then(
        () => 'ok' as const,
        () => 'error' as const,
      ),
      'timeout' as const,
    ),
    auditLagMs(opts.auditLog),
  ]);
  return {
    status: store === 'ok' ? 'ok' : 'degraded',
    version: VERSION,
    store,
    audit_lag: auditLag,
  };
}

/**
 * Milliseconds the audit writer needs to catch up with what is queued now: -1 when that is more
 * than HEALTH_WAIT_MS, or when its last write failed (it retries on its own; a probe must not
 * hurry it against a failing store).
 */
async function auditLagMs(log: HttpServerOptions['auditLog']): Promise<number> {
  if (!log) return 0;
  if (log.lastError) return -1;
  const started = performance.now();
  const done = await within(
    log.flush().then(() => true),
    false,
  );
  return done ? Math.round(performance.now() - started) : -1;
}

/** `work`'s result, or `late` once HEALTH_WAIT_MS have passed. */
async function within<T, L>(work: Promise<T>, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), HEALTH_WAIT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The notification a client would have sent, for a cancellation that arrives from another replica. */
function cancelledNotification(requestId: RequestId): JSONRPCNotification {
  return { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } };
}

function wantsProgress(body: unknown): boolean {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.some((m) => {
    const meta = (m as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta;
    return meta?.progressToken !== undefined;
  });
}

/** True when a JSON-RPC message (or batch) calls one of `tools`. */
function callsAny(body: unknown, tools: ReadonlySet<string>): boolean {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.some((m) => {
    const call = m as { method?: unknown; params?: { name?: unknown } } | null;
    return (
      call?.method === 'tools/call' && typeof call.params?.name === 'string' && tools.has(call.params.name)
    );
  });
}

/** 403 for a token whose scopes do not reach this request, naming the scopes it needs. */
function forbidden(res: ServerResponse, oauth: OAuthResource | undefined, needed: Right[]): void {
  if (oauth)
    res.setHeader(
      'WWW-Authenticate',
      oauth.challenge({ error: 'insufficient_scope', scope: oauth.scopeFor(needed) }),
    );
  return plain(
    res,
    403,
    `Forbidden: this request needs the scope${needed.length > 1 ? 's' : ''} ${oauth?.scopeFor(needed) ?? needed.join(', ')}`,
  );
}

function knownPath(path: string): string {
  if (ApprovalPage.handles(path)) return APPROVALS_PATH;
  return ['/mcp', '/healthz', '/metrics'].includes(path) ? path : 'other';
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}
