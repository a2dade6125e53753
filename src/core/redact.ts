/**
 * Redaction: the one place that keeps secret values out of results, logs, errors and audit
 * records. Two nets: keys whose names say they hold a secret, and exact values that day2 has
 * handled as secrets (registered with a Redactor's `registerSecret`). The second net is state, so
 * it lives in a Redactor that each runtime builds once and hands to everything that registers or
 * masks secrets; the shape-based nets below are plain functions.
 */
const SECRET_KEY =
  /(pass(word|wd)?|secret(_?value|_?string)?$|^token$|_token$|api_?key|app_?key|authorization|private_?key|credential_?value|^cookie$|client_secret|SecretString|SecretBinary)/i;
const ALLOWED_KEYS = new Set([
  'approval_token',
  'token_expires_at',
  'secret',
  'secret_name',
  'secret_id',
  'secrets',
  'next_token',
  'NextToken',
  'ClientRequestToken',
  'token_sha256',
  'token_env',
  'secret_prefix',
  'password_env',
]);

export const REDACTED = '[REDACTED]';

/** `name=value` / `"name": "value"` where the name says secret; the value is group 2. */
const LOG_ASSIGNMENT =
  /([A-Za-z0-9_.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[A-Za-z0-9_.-]*"?\s*[:=]\s*"?)([^\s"',;&]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
/** Password verifiers as pg_authid stores them: SCRAM-SHA-256$<iter>:<salt>$<key>:<key>, md5<32 hex>. */
const PASSWORD_VERIFIER = /\bSCRAM-SHA-256\$[^\s"',;]+|\bmd5[0-9a-f]{32}\b/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+):([^@\s]+)@/gi;

/**
 * A log line from a backend (a container's output) with what looks like a credential masked:
 * `password=…`, `"api_key": "…"`, `Authorization: Bearer …`, a password in a URL, a PostgreSQL
 * password verifier. Logs are free text that day2 never saw as secrets, so shape is all there is
 * here; Redactor.redactLogLine adds the known-secret net.
 */
export function maskCredentialShapes(line: string): string {
  return line
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(URL_PASSWORD, (_m, head: string) => `${head}:${REDACTED}@`)
    .replace(PASSWORD_VERIFIER, REDACTED)
    .replace(LOG_ASSIGNMENT, (_m, key: string) => key + REDACTED);
}

export function isSecretKey(key: string): boolean {
  return !ALLOWED_KEYS.has(key) && SECRET_KEY.test(key);
}

/** Nesting below this depth is replaced by TRUNCATED rather than copied (and never leaked). */
export const REDACT_MAX_DEPTH = 64;
export const TRUNCATED = `[TRUNCATED: nested deeper than ${REDACT_MAX_DEPTH} levels]`;

export const KNOWN_SECRETS_MAX = 4096;

/**
 * The known-secret net of one runtime: the secret values day2 handled most recently, and the
 * masking that uses them. Built once per runtime and passed to whatever registers secrets (the
 * Secrets Manager provider) or masks output (the governed call, the audit log, the logger, the
 * notifier); two runtimes in one process share nothing.
 *
 * Bounded: a long-running server reads and rotates secrets for months, and every value kept stays
 * in memory and in the pattern every output is matched against. Past KNOWN_SECRETS_MAX the value
 * registered least recently is forgotten. Every use of a secret goes through the provider, which
 * registers the value again (moving it to the newest end) before day2 holds it, so what is evicted
 * is a value day2 has not touched in the last KNOWN_SECRETS_MAX registrations: typically a
 * superseded version. Should such a value turn up in a backend's output later, only the
 * shape-based nets (secret-named fields, `password=…` in log lines) mask it; day2 no longer knows
 * it as a secret.
 */
export class Redactor {
  /** Oldest first: a Map keeps insertion order. */
  private readonly known = new Map<string, true>();
  private pattern: RegExp | undefined;

  /** Remembers a secret value so that any later output containing it is masked. */
  registerSecret(value: string | undefined): void {
    if (!value || value.length < 6) return;
    if (this.known.delete(value)) {
      // Already known: now the most recently used. The set, and so the pattern, is unchanged.
      this.known.set(value, true);
      return;
    }
    this.known.set(value, true);
    if (this.known.size > KNOWN_SECRETS_MAX) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.pattern = undefined;
  }

  /** `text` with every known secret value masked. */
  redactText(text: string): string {
    const p = this.secretPattern();
    return p ? text.replace(p, REDACTED) : text;
  }

  /** A backend's log line with known secrets and credential shapes masked (see maskCredentialShapes). */
  redactLogLine(line: string): string {
    return maskCredentialShapes(this.redactText(line));
  }

  /**
   * A deep copy of `value` with secret-named members and known secret values masked. The copy is
   * plain JSON-like data at most REDACT_MAX_DEPTH levels deep: deeper members (or a cycle) become
   * TRUNCATED, so that nothing downstream (canonical JSON, JSON.stringify, the transports) meets
   * nesting that could exhaust its stack, and nothing below the limit escapes redaction.
   */
  redact<T>(value: T): T {
    return this.walk(value, 0) as T;
  }

  private secretPattern(): RegExp | undefined {
    if (this.known.size === 0) return undefined;
    this.pattern ??= new RegExp(
      [...this.known.keys()].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
      'g',
    );
    return this.pattern;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= REDACT_MAX_DEPTH) return TRUNCATED;
    if (Array.isArray(value)) return value.map((v) => this.walk(v, depth + 1));
    if (value instanceof Date) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const copy =
        isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : this.walk(v, depth + 1);
      // A member named __proto__ (JSON.parse makes it an own member) stays a member: assigned, it
      // would replace the copy's prototype and vanish from what is audited.
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: copy, enumerable: true, writable: true, configurable: true });
      else out[k] = copy;
    }
    return out;
  }
}
