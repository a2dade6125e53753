import {
  BackendError,
  BackendUnavailableError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  retryAfterMs,
  ThrottledError,
} from '../errors.js';

const BACKEND = 'kubernetes';

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { retryAfterSeconds?: number };
}

/** True for the ApiException @kubernetes/client-node throws on a non-2xx answer. */
function isApiException(
  err: unknown,
): err is { code: number; body: unknown; headers?: Record<string, string> } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'number' &&
    'body' in err
  );
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? body : undefined;
}

/**
 * Turns whatever the client threw (ApiException with a Status body, an abort, a network error)
 * into a typed domain error. `what` names the call, for messages without a Status body.
 */
export function translateKubernetesError(err: unknown, what: string, timeoutMs?: number): BackendError {
  if (err instanceof BackendError) return err;
  if (isApiException(err)) {
    const status = parseStatus(err.body);
    const code = err.code;
    const message = status?.message ?? `${what}: HTTP ${code}`;
    const opts = { status: code, cause: err };
    if (code === 404) return new NotFoundError(BACKEND, message, opts);
    if (code === 409) return new ConflictError(BACKEND, message, opts);
    if (code === 401)
      return new ForbiddenError(
        BACKEND,
        `${what}: the Kubernetes API refused the credentials (401 Unauthorized)`,
        opts,
      );
    if (code === 403) return new ForbiddenError(BACKEND, message, opts);
    if (code === 429) {
      const header = err.headers?.['retry-after'];
      const ms =
        retryAfterMs(header) ??
        (status?.details?.retryAfterSeconds !== undefined
          ? status.details.retryAfterSeconds * 1000
          : undefined);
      return new ThrottledError(BACKEND, `${what}: throttled by the Kubernetes API (${message})`, {
        ...opts,
        retryAfterMs: ms,
      });
    }
    if (code === 400 || code === 405 || code === 415 || code === 422)
      return new InvalidError(BACKEND, message, opts);
    if (code >= 500)
      return new BackendUnavailableError(
        BACKEND,
        `${what}: the Kubernetes API failed (${code}: ${message})`,
        opts,
      );
    return new BackendError(BACKEND, 'invalid', message, opts);
  }
  const e = err as { name?: string; message?: string } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new BackendUnavailableError(
      BACKEND,
      `${what}: no answer from the Kubernetes API within ${timeoutMs ?? '?'} ms`,
      { cause: err },
    );
  }
  return new BackendUnavailableError(
    BACKEND,
    `${what}: cannot reach the Kubernetes API (${e?.message ?? String(err)})`,
    { cause: err },
  );
}
