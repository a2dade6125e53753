/** What went wrong at a backend, in terms a tool can act on. */
export type BackendErrorKind =
  'not_found' | 'conflict' | 'unavailable' | 'throttled' | 'invalid' | 'forbidden';

export interface BackendErrorOptions {
  /** HTTP status (or equivalent) the backend answered with, when there was an answer. */
  status?: number;
  /** How long the backend asked us to wait before retrying (throttling). */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A backend failure translated from the vendor's error (HTTP status, error body, SQLSTATE, ...).
 * Messages name the object concerned and never carry secret values.
 */
export class BackendError extends Error {
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    readonly backend: string,
    readonly kind: BackendErrorKind,
    message: string,
    opts: BackendErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BackendError';
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }

  /** Whether trying the same call again later may succeed. */
  get retryable(): boolean {
    return this.kind === 'unavailable' || this.kind === 'throttled';
  }
}

export class NotFoundError extends BackendError {
  constructor(backend: string, message: string, opts?: BackendErrorOptions) {
    super(backend, 'not_found', message, opts);
    this.name = 'NotFoundError';
  }
}

/** The object changed since it was read (optimistic concurrency), or it already exists. */
export class ConflictError extends BackendError {
  constructor(backend: string, message: string, opts?: BackendErrorOptions) {
    super(backend, 'conflict', message, opts);
    this.name = 'ConflictError';
  }
}

/** 5xx, timeouts, refused or dropped connections. */
export class BackendUnavailableError extends BackendError {
  constructor(backend: string, message: string, opts?: BackendErrorOptions) {
    super(backend, 'unavailable', message, opts);
    this.name = 'BackendUnavailableError';
  }
}

export class ThrottledError extends BackendError {
  constructor(backend: string, message: string, opts?: BackendErrorOptions) {
    super(backend, 'throttled', message, opts);
    this.name = 'ThrottledError';
  }
}

export class InvalidError extends BackendError {
  constructor(backend: string, message: string, opts?: BackendErrorOptions) {
    super(backend, 'invalid', message, opts);
    this.name = 'InvalidError';
  }
}

/** Authentication or authorization refused (401/403), or a target outside the configured scope. */
export class ForbiddenError extends BackendError {
  constructor(backend: string, message: string, opts?: BackendErrorOptions) {
    super(backend, 'forbidden', message, opts);
    this.name = 'ForbiddenError';
  }
}

/** Parses an HTTP Retry-After header (seconds or HTTP date) into milliseconds. */
export function retryAfterMs(header: string | undefined | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
