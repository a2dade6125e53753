import { ToolError } from '../../tools/define-tool.js';
import { BackendError, type BackendErrorKind } from '../errors.js';

/** What went wrong talking to PostgreSQL, in terms an operator (or a model) can act on. */
export type PostgresErrorKind =
  | 'unknown_database'
  | 'unavailable'
  | 'syntax_error'
  | 'insufficient_privilege'
  | 'lock_timeout'
  | 'statement_timeout'
  | 'query_canceled'
  | 'read_only'
  | 'undefined_object'
  | 'query_failed';

const BACKEND_KIND: Record<PostgresErrorKind, BackendErrorKind> = {
  unknown_database: 'not_found',
  unavailable: 'unavailable',
  syntax_error: 'invalid',
  insufficient_privilege: 'forbidden',
  lock_timeout: 'unavailable',
  statement_timeout: 'invalid',
  query_canceled: 'invalid',
  read_only: 'invalid',
  undefined_object: 'not_found',
  query_failed: 'invalid',
};

/**
 * A PostgreSQL failure translated from its SQLSTATE or socket error: a BackendError (backend
 * `postgres`) whose `reason` is the precise cause. Messages never carry the connection string or a
 * password; `detail.position` is the 1-based character offset PostgreSQL reported.
 */
export class PostgresError extends BackendError {
  constructor(
    readonly reason: PostgresErrorKind,
    message: string,
    readonly detail: { sqlstate?: string; position?: number; hint?: string } = {},
  ) {
    super('postgres', BACKEND_KIND[reason], message);
  }
}

interface PgErrorLike {
  code?: string;
  message?: string;
  position?: string;
  internalPosition?: string;
  hint?: string;
  errno?: number;
  syscall?: string;
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * Maps a `pg` error (SQLSTATE in `code`) or a socket error to a PostgresError. `where` names the
 * target as `env/database` for the message. A ToolError or BackendError passes through.
 */
export function translatePgError(err: unknown, where: string): Error {
  if (err instanceof ToolError || err instanceof BackendError) return err;
  if (!(err instanceof Error)) return new PostgresError('query_failed', `PostgreSQL call on ${where} failed`);
  const e = err as Error & PgErrorLike;
  const code = e.code ?? '';
  const position = e.position ? Number(e.position) : undefined;
  const base = { sqlstate: /^[0-9A-Z]{5}$/.test(code) ? code : undefined, position, hint: e.hint };
  const serverText = scrub(e.message ?? '');
  if (
    SOCKET_CODES.has(code) ||
    /connection terminated|timeout expired|Connection terminated|connect ETIMEDOUT/.test(e.message ?? '')
  ) {
    return new PostgresError(
      'unavailable',
      `PostgreSQL for ${where} is unavailable (${code || 'connection failed'}); check that the server is up and reachable`,
      base,
    );
  }
  switch (true) {
    case code === '3D000':
      return new PostgresError(
        'unknown_database',
        `the database for ${where} does not exist on its server: ${serverText}`,
        base,
      );
    case code === '42601':
      return new PostgresError(
        'syntax_error',
        `syntax error${position ? ` at position ${position}` : ''}: ${serverText}`,
        base,
      );
    case code === '42501':
      return new PostgresError(
        'insufficient_privilege',
        `insufficient privilege on ${where}: ${serverText}`,
        base,
      );
    case code === '55P03':
      return new PostgresError(
        'lock_timeout',
        `lock timeout on ${where}: a lock could not be taken in time (another session holds it); retry later or find the blocker with blocking_queries`,
        base,
      );
    case code === '57014' && /statement timeout/.test(e.message ?? ''):
      return new PostgresError(
        'statement_timeout',
        `statement timeout on ${where}: the statement ran longer than allowed`,
        base,
      );
    case code === '57014':
      return new PostgresError(
        'query_canceled',
        `the statement on ${where} was canceled: ${serverText}`,
        base,
      );
    case code === '25006':
      return new PostgresError('read_only', `refused by PostgreSQL: ${serverText}`, base);
    case code.startsWith('08') ||
      code === '57P01' ||
      code === '57P02' ||
      code === '57P03' ||
      code === '53300':
      return new PostgresError('unavailable', `PostgreSQL for ${where} is unavailable: ${serverText}`, base);
    case code === '42P01' || code === '42703' || code === '42883' || code === '42704' || code === '3F000':
      return new PostgresError(
        'undefined_object',
        `${serverText}${position ? ` (at position ${position})` : ''}`,
        base,
      );
    case code === '28P01' || code === '28000':
      return new PostgresError(
        'unavailable',
        `PostgreSQL for ${where} refused the login: check the configured credentials`,
        base,
      );
    default:
      return new PostgresError(
        'query_failed',
        `PostgreSQL error on ${where}${code ? ` (${code})` : ''}: ${serverText}`,
        base,
      );
  }
}

/** Server messages are short and secret-free by design, but never let a URL with a password through. */
function scrub(message: string): string {
  return message.replace(/postgres(ql)?:\/\/[^\s]*/gi, '[connection string]').slice(0, 500);
}
