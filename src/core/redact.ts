/**
 * Redaction: the one place that keeps secret values out of results, logs, errors and audit
 * records. Two nets: keys whose names say they hold a secret, and exact values that day2 has
 * handled as secrets during this process (registered with `registerSecret`).
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

/**
 * The secret values day2 handled most recently, oldest first. Bounded: a long-running server reads
 * and rotates secrets for months, and every value kept here stays in memory and in the pattern
 * every output is matched against. Past KNOWN_SECRETS_MAX the value registered least recently is
 * forgotten. Every use of a secret goes through the provider, which registers the value again
 * (moving it to the newest end) before day2 holds it, so what is evicted is a value day2 has not
 * touched in the last KNOWN_SECRETS_MAX registrations: typically a superseded version. Should
 * such a value turn up in a backend's output later, only the shape-based nets (secret-named
 * fields, `password=…` in log lines) mask it; day2 no longer knows it as a secret.
 */
const knownSecrets = new Map<string, true>();
export const KNOWN_SECRETS_MAX = 4096;
let pattern: RegExp | undefined;

/** Remembers a secret value so that any later output containing it is masked (see knownSecrets). */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 6) return;
  if (knownSecrets.delete(value)) {
    // Already known: now the most recently used. The set, and so the pattern, is unchanged.
    knownSecrets.set(value, true);
    return;
  }
  knownSecrets.set(value, true);
  if (knownSecrets.size > KNOWN_SECRETS_MAX) {
    const oldest = knownSecrets.keys().next().value;
    if (oldest !== undefined) knownSecrets.delete(oldest);
  }
  pattern = undefined;
}

function secretPattern(): RegExp | undefined {
  if (knownSecrets.size === 0) return undefined;
  pattern ??= new RegExp(
    [...knownSecrets.keys()].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
    'g',
  );
  return pattern;
}

export function redactText(text: string): string {
  const p = secretPattern();
  return p ? text.replace(p, REDACTED) : text;
}

/** `name=value` / `"name": "value"` where the name says secret; the value is group 2. */
const LOG_ASSIGNMENT =
  /([A-Za-z0-9_.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential)[A-Za-z0-9_.-]*"?\s*[:=]\s*"?)([^\s"',;&]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g;
/** Password verifiers as pg_authid stores them: SCRAM-SHA-256$<iter>:<salt>$<key>:<key>, md5<32 hex>. */
const PASSWORD_VERIFIER = /\bSCRAM-SHA-256\$[^\s"',;]+|\bmd5[0-9a-f]{32}\b/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s@]+):([^@\s]+)@/gi;

/**
 * A log line from a backend (a container's output) with what looks like a credential masked, on
 * top of the known-secret net: `password=…`, `"api_key": "…"`, `Authorization: Bearer …`, a
 * password in a URL, a PostgreSQL password verifier. Logs are free text that day2 never saw as secrets, so shape is all there is.
 */
export function redactLogLine(line: string): string {
  return redactText(line)
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

/**
 * A deep copy of `value` with secret-named members and known secret values masked. The copy is
 * plain JSON-like data at most REDACT_MAX_DEPTH levels deep: deeper members (or a cycle) become
 * TRUNCATED, so that nothing downstream (canonical JSON, JSON.stringify, the transports) meets
 * nesting that could exhaust its stack, and nothing below the limit escapes redaction.
 */
export function redact<T>(value: T): T {
  return walk(value, 0) as T;
}

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= REDACT_MAX_DEPTH) return TRUNCATED;
  if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const copy = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : walk(v, depth + 1);
    // A member named __proto__ (JSON.parse makes it an own member) stays a member: assigned, it
    // would replace the copy's prototype and vanish from what is audited.
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[k] = copy;
  }
  return out;
}
