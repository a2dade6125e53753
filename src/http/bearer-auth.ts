import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import { samePrincipal } from '../core/principal.js';

type TokenConfig = Config['http']['tokens'][number];

/**
 * Bearer tokens from `http.tokens`, each mapped to a principal. Tokens are held only as SHA-256
 * digests and compared in constant time; a `token_env` whose variable is unset matches nothing.
 */
export class BearerAuth {
  private readonly entries: { digest: Buffer; principal: string }[] = [];

  constructor(tokens: readonly TokenConfig[], env: NodeJS.ProcessEnv, log: Logger) {
    for (const t of tokens) {
      if (t.token_sha256)
        this.entries.push({ digest: Buffer.from(t.token_sha256, 'hex'), principal: t.principal });
      else if (t.token_env) {
        const value = env[t.token_env];
        if (value) this.entries.push({ digest: sha256(value), principal: t.principal });
        else
          log.warn('http token variable is unset; that principal cannot log in', {
            token_env: t.token_env,
            principal: t.principal,
          });
      }
    }
  }

  get configured(): boolean {
    return this.entries.length > 0;
  }

  /** The principal for an Authorization header, or undefined when it carries no valid bearer. */
  principalFor(authorization: string | undefined): { principal: string; token: string } | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m?.[1]) return undefined;
    const found = this.match(m[1]);
    return found === undefined ? undefined : { principal: found.principal, token: m[1] };
  }

  /**
   * Whether `token` is the one configured for `principal` (compared in canonical form); returns
   * the principal as configured and that entry's digest, a secret only the holder of the token can
   * derive (the approval page keys its form tokens with it).
   */
  verify(principal: string, token: string): { principal: string; digest: Buffer } | undefined {
    const found = this.match(token);
    return found && samePrincipal(found.principal, principal) ? found : undefined;
  }

  private match(token: string): { digest: Buffer; principal: string } | undefined {
    const presented = sha256(token);
    let found: { digest: Buffer; principal: string } | undefined;
    // Every entry is compared so that the time taken does not say which one matched.
    for (const e of this.entries) if (timingSafeEqual(e.digest, presented) && found === undefined) found = e;
    return found;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
