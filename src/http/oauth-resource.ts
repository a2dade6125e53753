import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';

type OAuthSettings = NonNullable<Config['http']['oauth']>;

/** What a request may do: read, plan and make changes, or decide on approvals (the page only). */
export type Right = 'read' | 'write' | 'approve';

export const METADATA_PATH = '/.well-known/oauth-protected-resource';

/** A token that verified: who holds it and what its scopes allow. */
export interface TokenHolder {
  principal: string;
  /** The token's `sub`, which an ID token for the same person names too. */
  subject?: string;
  /** The token's `email`, when it has one: a name for people to read, never an identity. */
  displayName?: string;
  rights: ReadonlySet<Right>;
}

export type TokenCheck =
  | { ok: true; holder: TokenHolder }
  /** `unavailable`: the issuer's keys could not be read, which is no fault of the token. */
  | { ok: false; reason: string; unavailable?: boolean };

/**
 * day2 as an OAuth 2.1 resource server (MCP authorization, RFC 9728, RFC 8707). Access tokens are
 * JWTs checked against the issuer's JWKS (cached by jose, refetched when a token names a key id it
 * does not hold, at most once per `jwks_cooldown`): signature, issuer, audience = this server's
 * canonical URI, exp and nbf within `clock_skew`. Scopes map to rights. A token is only ever
 * verified here: it is never logged, stored or handed to a backend.
 */
export class OAuthResource {
  /** The canonical URI of the MCP endpoint: the audience every token must name. */
  readonly resource: string;
  /** Where the metadata document for `resource` is (the path-suffixed form). */
  readonly metadataUrl: string;
  private keys?: ReturnType<typeof createRemoteJWKSet>;

  get issuer(): string {
    return this.settings.issuer;
  }
  private discovering?: Promise<URL>;

  constructor(
    private readonly settings: OAuthSettings,
    resource: string,
    private readonly log: Logger,
  ) {
    this.resource = resource;
    const u = new URL(resource);
    const suffix = u.pathname === '/' ? '' : u.pathname;
    this.metadataUrl = `${u.origin}${METADATA_PATH}${suffix}`;
  }

  /** The paths this server answers with its metadata: the root form and the one for `path`. */
  servesMetadata(path: string, mcpPath: string): boolean {
    const resourcePath = new URL(this.resource).pathname;
    return [METADATA_PATH, `${METADATA_PATH}${mcpPath}`, `${METADATA_PATH}${resourcePath}`].includes(path);
  }

  /** The protected resource metadata document (RFC 9728 section 2). */
  metadata(): Record<string, unknown> {
    const s = this.settings.scopes;
    return {
      resource: this.resource,
      authorization_servers: [this.settings.issuer],
      scopes_supported: [s.read, s.write, s.approve],
      bearer_methods_supported: ['header'],
      resource_name: 'day2',
    };
  }

  /** The scope names that grant `rights`, space-separated as in a `scope` parameter. */
  scopeFor(rights: readonly Right[]): string {
    return rights.map((r) => this.settings.scopes[r]).join(' ');
  }

  /**
   * A `WWW-Authenticate` value: always the metadata URL, plus an error code (RFC 6750) and the
   * scope the request needs. `description` must say nothing taken from the token.
   */
  challenge(opts: {
    error?: 'invalid_token' | 'insufficient_scope';
    description?: string;
    scope?: string;
  }): string {
    const params = [
      opts.error && `error="${opts.error}"`,
      opts.description && `error_description="${opts.description.replace(/["\\]/g, '')}"`,
      opts.scope && `scope="${opts.scope}"`,
      `resource_metadata="${this.metadataUrl}"`,
    ];
    return `Bearer ${params.filter(Boolean).join(', ')}`;
  }

  async verify(token: string): Promise<TokenCheck> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(), {
        issuer: this.settings.issuer,
        audience: this.resource,
        clockTolerance: Math.ceil(this.settings.clock_skew / 1000),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      const refused = refusal(err);
      if (refused.unavailable)
        this.log.warn('oauth: the issuer keys could not be read; tokens cannot be checked', {
          error: err,
        });
      return refused;
    }
    const principal = payload[this.settings.principal_claim];
    if (typeof principal !== 'string' || !principal.trim())
      return {
        ok: false,
        reason: `the token has no ${this.settings.principal_claim} claim naming its holder`,
      };
    const granted = scopesOf(payload);
    const rights = new Set<Right>(
      (['read', 'write', 'approve'] as const).filter((r) => granted.has(this.settings.scopes[r])),
    );
    const email = payload.email;
    return {
      ok: true,
      holder: {
        principal,
        rights,
        ...(payload.sub ? { subject: payload.sub } : {}),
        ...(typeof email === 'string' && email ? { displayName: email } : {}),
      },
    };
  }

  /**
   * An ID token from the issuer for `clientId`, bound to `nonce` (OpenID Connect Core 3.1.3.7):
   * its claims, or undefined when it does not verify.
   */
  async verifyIdToken(idToken: string, clientId: string, nonce: string): Promise<JWTPayload | undefined> {
    try {
      const { payload } = await jwtVerify(idToken, await this.keySet(), {
        issuer: this.settings.issuer,
        audience: clientId,
        clockTolerance: Math.ceil(this.settings.clock_skew / 1000),
        requiredClaims: ['exp', 'sub'],
      });
      return payload.nonce === nonce ? payload : undefined;
    } catch {
      return undefined;
    }
  }

  private async keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (this.keys) return this.keys;
    const configured = this.settings.jwks_uri;
    // Discovery is retried on the next request when it fails, never cached as a failure.
    this.discovering ??= configured
      ? Promise.resolve(new URL(configured))
      : discoverJwksUri(this.settings.issuer);
    try {
      const uri = await this.discovering;
      this.keys ??= createRemoteJWKSet(uri, {
        cooldownDuration: this.settings.jwks_cooldown,
        timeoutDuration: 5000,
      });
      return this.keys;
    } catch (err) {
      this.discovering = undefined;
      throw err;
    }
  }
}

/** The token's scopes: `scope` (RFC 9068, space-separated), or `scp` as some servers send it. */
function scopesOf(payload: JWTPayload): Set<string> {
  const { scope, scp } = payload as { scope?: unknown; scp?: unknown };
  if (typeof scope === 'string') return new Set(scope.split(' ').filter(Boolean));
  if (Array.isArray(scp)) return new Set(scp.filter((s): s is string => typeof s === 'string'));
  if (typeof scp === 'string') return new Set(scp.split(' ').filter(Boolean));
  return new Set();
}

/** Why a token was refused, in words that quote nothing from it. */
function refusal(err: unknown): { ok: false; reason: string; unavailable?: boolean } {
  if (err instanceof errors.JWTExpired) return { ok: false, reason: 'the token has expired' };
  if (err instanceof errors.JWTClaimValidationFailed) {
    const reasons: Record<string, string> = {
      iss: 'the token was issued by another authorization server',
      aud: 'the token is for another resource',
      nbf: 'the token is not valid yet',
      exp: 'the token has no expiry',
    };
    return { ok: false, reason: reasons[err.claim] ?? `the token's ${err.claim} claim is not valid` };
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return { ok: false, reason: 'the token signature does not verify' };
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    return { ok: false, reason: 'the token is signed with a key the issuer does not publish' };
  if (
    err instanceof errors.JWKSTimeout ||
    err instanceof errors.JWKSInvalid ||
    !(err instanceof errors.JOSEError)
  )
    return { ok: false, reason: 'the authorization server keys could not be read', unavailable: true };
  return { ok: false, reason: 'the token is not a valid JWT access token' };
}

/** The parts of an authorization server's metadata day2 uses (RFC 8414). */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
}

/**
 * The issuer's metadata: RFC 8414 (the well-known path inserted before the issuer's path), else
 * its OpenID configuration. The document must name the same issuer (RFC 8414 section 3.3).
 */
export async function authorizationServerMetadata(issuer: string): Promise<AuthorizationServerMetadata> {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  const candidates = [
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
    `${u.origin}${path}/.well-known/openid-configuration`,
  ];
  for (const at of candidates) {
    const res = await fetch(at, {
      signal: AbortSignal.timeout(5000),
      headers: { Accept: 'application/json' },
    });
    if (!res.ok) continue;
    const doc = (await res.json()) as AuthorizationServerMetadata;
    if (doc.issuer !== issuer)
      throw new Error(`the metadata at ${at} names issuer ${String(doc.issuer)}, not ${issuer}`);
    return doc;
  }
  throw new Error(`no authorization server metadata for ${issuer} (tried ${candidates.join(', ')})`);
}

async function discoverJwksUri(issuer: string): Promise<URL> {
  const doc = await authorizationServerMetadata(issuer);
  if (typeof doc.jwks_uri !== 'string') throw new Error(`the metadata of ${issuer} has no jwks_uri`);
  return new URL(doc.jwks_uri);
}
