import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import { APPROVALS_PATH } from '../guards/approval-link.js';
import { authorizationServerMetadata, type OAuthResource } from './oauth-resource.js';

type LoginSettings = NonNullable<NonNullable<Config['http']['oauth']>['approval_login']>;

export const LOGIN_PATH = `${APPROVALS_PATH}/login`;
export const CALLBACK_PATH = `${APPROVALS_PATH}/callback`;
const LOGIN_COOKIE = 'day2_login';
const SESSION_COOKIE = 'day2_approver';
const LOGIN_TTL_S = 600;

/** Someone signed in through OpenID Connect: who, and the key their form tokens are made with. */
export interface SignedIn {
  principal: string;
  displayName?: string;
  key: Buffer;
}

/** A sign-in that did not complete: the status and a sentence for the person. */
export class LoginError extends Error {
  override name = 'LoginError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The approval page's OpenID Connect sign-in (authorization code + PKCE, RFC 7636) against the
 * issuer of `http.oauth`. Replicas keep no state: the state, nonce and code verifier travel in an
 * encrypted cookie between /approvals/login and /approvals/callback, and the signed-in approver
 * in another, both encrypted with `session_key_env` (the same on every replica). The access
 * token must carry the approve scope for this server (`resource`), as a Bearer one must; the
 * ID token must match the nonce and name the same subject. No token is kept: the session cookie
 * holds the principal, a display name and a random key for form tokens, until the access token
 * would have expired.
 */
export class ApproverLogin {
  private readonly key: Uint8Array;
  private readonly secure: boolean;

  constructor(
    private readonly settings: LoginSettings,
    private readonly oauth: OAuthResource,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {
    // startHttpServer has checked that the variable holds a long enough secret.
    const secret = env[settings.session_key_env] ?? '';
    this.key = createHash('sha256').update(`day2 approval sign-in\n${secret}`).digest();
    this.secure = new URL(oauth.resource).protocol === 'https:';
  }

  private get redirectUri(): string {
    return new URL(CALLBACK_PATH, this.oauth.resource).href;
  }

  /** Sends the browser to the issuer, remembering where it was going. */
  async start(res: ServerResponse, next: string): Promise<void> {
    const as = await authorizationServerMetadata(this.oauth.issuer);
    if (!as.authorization_endpoint)
      throw new LoginError(502, 'The authorization server has no authorization endpoint.');
    const state = randomToken();
    const nonce = randomToken();
    const verifier = randomToken();
    const to = new URL(as.authorization_endpoint);
    const params = {
      response_type: 'code',
      client_id: this.settings.client_id,
      redirect_uri: this.redirectUri,
      scope: `openid email ${this.oauth.scopeFor(['approve'])}`,
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      resource: this.oauth.resource,
    };
    for (const [k, v] of Object.entries(params)) to.searchParams.set(k, v);
    const safeNext = next.startsWith(`${APPROVALS_PATH}`) ? next : APPROVALS_PATH;
    const cookie = await this.seal({ state, nonce, verifier, next: safeNext }, LOGIN_TTL_S);
    res.setHeader('Set-Cookie', this.cookie(LOGIN_COOKIE, cookie, LOGIN_TTL_S));
    res.writeHead(302, { Location: to.href, 'Cache-Control': 'no-store' });
    res.end();
  }

  /** Completes a sign-in: the signed-in approver's cookie and where to go next. */
  async finish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const login = await this.open(cookieValue(req.headers.cookie, LOGIN_COOKIE));
    res.appendHeader('Set-Cookie', this.cookie(LOGIN_COOKIE, '', 0));
    if (!login)
      throw new LoginError(
        400,
        'The sign-in expired or was started elsewhere: open the approval page again.',
      );
    if (query.get('error'))
      throw new LoginError(403, `The authorization server refused the sign-in (${query.get('error')}).`);
    if (!sameText(query.get('state') ?? '', String(login.state)))
      throw new LoginError(
        400,
        'The sign-in does not match the one started here: open the approval page again.',
      );
    const tokens = await this.redeem(query.get('code') ?? '', String(login.verifier));
    const access = await this.oauth.verify(tokens.access_token);
    if (!access.ok) throw new LoginError(403, `The access token was refused: ${access.reason}.`);
    const id = await this.oauth.verifyIdToken(tokens.id_token, this.settings.client_id, String(login.nonce));
    const { principal, displayName, rights, subject } = access.holder;
    if (!id || id.sub !== subject)
      throw new LoginError(403, 'The ID token does not verify or is not for this sign-in.');
    if (!rights.has('approve')) {
      this.log.warn('approval page: a sign-in without the approve scope was refused', { principal });
      throw new LoginError(403, `Deciding on approvals needs the scope ${this.oauth.scopeFor(['approve'])}.`);
    }
    const email = typeof id.email === 'string' ? id.email : displayName;
    const ttl = Math.max(60, Math.min(8 * 3600, (tokens.expires_in ?? 300) | 0));
    const session = await this.seal({ principal, ...(email ? { email } : {}), key: randomToken() }, ttl);
    res.appendHeader('Set-Cookie', this.cookie(SESSION_COOKIE, session, ttl));
    res.writeHead(303, { Location: String(login.next), 'Cache-Control': 'no-store' });
    res.end();
  }

  /** The approver a request's session cookie names, if it holds a valid one. */
  async signedIn(cookieHeader: string | undefined): Promise<SignedIn | undefined> {
    const s = await this.open(cookieValue(cookieHeader, SESSION_COOKIE));
    if (!s || typeof s.principal !== 'string' || typeof s.key !== 'string') return undefined;
    return {
      principal: s.principal,
      ...(typeof s.email === 'string' ? { displayName: s.email } : {}),
      key: Buffer.from(s.key, 'base64url'),
    };
  }

  private async redeem(
    code: string,
    verifier: string,
  ): Promise<{ access_token: string; id_token: string; expires_in?: number }> {
    const as = await authorizationServerMetadata(this.oauth.issuer);
    if (!as.token_endpoint) throw new LoginError(502, 'The authorization server has no token endpoint.');
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.redirectUri,
      code_verifier: verifier,
      resource: this.oauth.resource,
      client_id: this.settings.client_id,
    });
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const secret = this.settings.client_secret_env ? this.env[this.settings.client_secret_env] : undefined;
    if (secret)
      headers.Authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.settings.client_id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    const res = await fetch(as.token_endpoint, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const doc = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof doc.access_token !== 'string' || typeof doc.id_token !== 'string') {
      // The error code only: the response may echo what was sent.
      this.log.warn('approval page: the code could not be redeemed', {
        status: res.status,
        error: doc.error,
      });
      throw new LoginError(
        502,
        'The authorization server did not complete the sign-in: open the approval page again.',
      );
    }
    return {
      access_token: doc.access_token,
      id_token: doc.id_token,
      ...(typeof doc.expires_in === 'number' ? { expires_in: doc.expires_in } : {}),
    };
  }

  private seal(claims: Record<string, string>, ttlSeconds: number): Promise<string> {
    return new EncryptJWT(claims)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .encrypt(this.key);
  }

  private async open(value: string | undefined): Promise<Record<string, unknown> | undefined> {
    if (!value) return undefined;
    try {
      return (await jwtDecrypt(value, this.key)).payload;
    } catch {
      return undefined;
    }
  }

  private cookie(name: string, value: string, maxAge: number): string {
    return `${name}=${value}; Path=${APPROVALS_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${this.secure ? '; Secure' : ''}`;
  }
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
