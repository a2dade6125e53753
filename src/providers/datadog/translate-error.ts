import { BackendError } from '../errors.js';

/** Per-call facts the HTTP layer saw and the client's ApiException does not carry. */
export interface CallContext {
  retryAfterMs?: number;
  timedOut?: boolean;
}

function errorMessages(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'errors' in body) {
    const errors = body.errors;
    if (Array.isArray(errors)) {
      const texts = errors
        .map((e) =>
          typeof e === 'string'
            ? e
            : typeof e === 'object' && e && 'detail' in e
              ? String((e as { detail: unknown }).detail)
              : '',
        )
        .filter(Boolean);
      if (texts.length > 0) return texts.join('; ').slice(0, 300);
    }
  }
  return undefined;
}

function isApiException(err: unknown): err is Error & { code: number; body: unknown } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number' && 'body' in err;
}

/**
 * Translates what the Datadog client threw (ApiException with `code` and `body`, or a network
 * failure) into a BackendError. Messages carry Datadog's own error text, never keys or URLs with secrets.
 */
export function translateDatadogError(
  err: unknown,
  operation: string,
  ctx: CallContext,
  timeoutMs: number,
): BackendError {
  if (err instanceof BackendError) return err;
  if (isApiException(err)) {
    const status = err.code;
    const detail = errorMessages(err.body);
    const say = (fallback: string): string => `${operation}: ${detail ?? fallback}`;
    const opts = { status, cause: err };
    if (status === 400 || status === 422)
      return new BackendError('datadog', 'invalid', say('bad request'), opts);
    if (status === 401)
      return new BackendError(
        'datadog',
        'forbidden',
        say('unauthorized: the API or application key is missing or wrong'),
        opts,
      );
    if (status === 403)
      return new BackendError(
        'datadog',
        'forbidden',
        say('forbidden: the API or application key is wrong or lacks permission'),
        opts,
      );
    if (status === 404) return new BackendError('datadog', 'not_found', say('not found'), opts);
    if (status === 409) return new BackendError('datadog', 'conflict', say('conflict'), opts);
    if (status === 429) {
      return new BackendError('datadog', 'throttled', say('rate limited'), {
        ...opts,
        retryAfterMs: ctx.retryAfterMs ?? 1000,
      });
    }
    if (status >= 500) return new BackendError('datadog', 'unavailable', say(`server error ${status}`), opts);
    return new BackendError('datadog', 'invalid', say(`unexpected status ${status}`), opts);
  }
  if (ctx.timedOut || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))) {
    return new BackendError('datadog', 'unavailable', `${operation}: no answer within ${timeoutMs} ms`, {
      cause: err,
    });
  }
  const reason = err instanceof Error ? describeNetworkError(err) : 'request failed';
  return new BackendError('datadog', 'unavailable', `${operation}: ${reason}`, { cause: err });
}

function describeNetworkError(err: Error): string {
  const cause = (err as { cause?: unknown }).cause;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code) return `connection failed (${code})`;
  if (err.message === 'fetch failed' || /socket|ECONNRESET|closed/i.test(err.message))
    return 'connection dropped';
  return 'request failed';
}
