import { BackendError } from './errors.js';
import { BackendNotConfiguredError } from './backends.js';
import { PostgresError } from './postgres/errors.js';

const HINTS: Record<string, (e: BackendError) => string> = {
  not_found: () => 'check the name and environment',
  conflict: () => 'the object changed meanwhile; plan again',
  unavailable: () => 'the backend is not answering; try again later',
  throttled: (e) =>
    `the backend is rate limiting${e.retryAfterMs ? `; retry after ${Math.ceil(e.retryAfterMs / 1000)} s` : ''}`,
  invalid: () => 'the backend rejected the request as invalid',
  forbidden: () => "day2's credentials lack permission for this",
  unauthorized: () => "day2's credentials for this backend are missing or wrong",
};

/**
 * Turns a backend failure into a sentence a model can act on, without internal detail. Providers
 * throw BackendError (src/providers/errors.ts) subclasses.
 */
export function describeBackendError(err: unknown): { message: string; code: string } | undefined {
  if (err instanceof BackendNotConfiguredError)
    return { message: err.message, code: 'backend_not_configured' };
  if (!(err instanceof BackendError)) return undefined;
  const hint = HINTS[err.kind]?.(err);
  return {
    message: `${err.backend}: ${err.message}${hint ? ` (${hint})` : ''}`,
    code: `backend_${err.kind}`,
  };
}

/**
 * The backend's own text for a failure, kept out of the model-facing message because it can carry
 * data (a PostgreSQL error quoting the value it could not cast). Only the audit record gets it.
 */
export function serverMessageOf(err: unknown): string | undefined {
  return err instanceof PostgresError ? err.serverMessage : undefined;
}
