import { ToolError } from '../../core/errors.js';
import { BackendError, type BackendErrorKind } from '../errors.js';
import { SQLSTATE_NAMES } from './sqlstate-names.js';

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
 * `postgres`) whose `reason` is the precise cause. The message names the target, the SQLSTATE, its
 * condition name and the position, never the server's own text: that text can carry values a
 * statement computed (a row cast to int, a RAISE message, a duplicate key), so it travels only in
 * `serverMessage`, which goes to the audit record (redacted) and never to the model.
 * `detail.position` is the 1-based character offset PostgreSQL reported.
 */
export class PostgresError extends BackendError {
  constructor(
    readonly reason: PostgresErrorKind,
    message: string,
    readonly detail: { sqlstate?: string; position?: number } = {},
    /** The server's message text, scrubbed of connection strings: for the audit record only. */
    readonly serverMessage?: string,
  ) {
    super('postgres', BACKEND_KIND[reason], message);
  }
}

/** `SQLSTATE 22P02 (invalid_text_representation) at position 12`: what a model may see of an error. */
export function describeSqlstate(sqlstate: string | undefined, position?: number): string {
  const name = sqlstate
    ? (SQLSTATE_NAMES[sqlstate] ?? SQLSTATE_NAMES[`${sqlstate.slice(0, 2)}000`])
    : undefined;
  const code = sqlstate ? `SQLSTATE ${sqlstate}${name ? ` (${name})` : ''}` : 'no SQLSTATE';
  return `${code}${position ? ` at position ${position}` : ''}`;
}

interface PgErrorLike {
  code?: string;
  message?: string;
  position?: string;
  internalPosition?: string;
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
  const base = { sqlstate: /^[0-9A-Z]{5}$/.test(code) ? code : undefined, position };
  const serverText = scrub(e.message ?? '');
  const fail = (reason: PostgresErrorKind, message: string) =>
    new PostgresError(reason, message, base, serverText || undefined);
  const state = describeSqlstate(base.sqlstate, position);
  if (
    SOCKET_CODES.has(code) ||
    /connection terminated|timeout expired|Connection terminated|connect ETIMEDOUT/.test(e.message ?? '')
  ) {
    return fail(
      'unavailable',
      `PostgreSQL for ${where} is unavailable (${code || 'connection failed'}); check that the server is up and reachable`,
    );
  }
  switch (true) {
    case code === '3D000':
      return fail('unknown_database', `the database for ${where} does not exist on its server (${state})`);
    case code === '42601':
      return fail('syntax_error', `syntax error${position ? ` at position ${position}` : ''} (${state})`);
    case code === '42501':
      return fail('insufficient_privilege', `insufficient privilege on ${where} (${state})`);
    case code === '55P03':
      return fail(
        'lock_timeout',
        `lock timeout on ${where}: a lock could not be taken in time (another session holds it); retry later or find the blocker with blocking_queries`,
      );
    case code === '57014' && /statement timeout/.test(e.message ?? ''):
      return fail(
        'statement_timeout',
        `statement timeout on ${where}: the statement ran longer than allowed`,
      );
    case code === '57014':
      return fail('query_canceled', `the statement on ${where} was canceled (${state})`);
    case code === '25006':
      return fail('read_only', `refused by PostgreSQL on ${where}: the transaction is read-only (${state})`);
    case code.startsWith('08') ||
      code === '57P01' ||
      code === '57P02' ||
      code === '57P03' ||
      code === '53300':
      return fail('unavailable', `PostgreSQL for ${where} is unavailable (${state})`);
    case code === '42P01' || code === '42703' || code === '42883' || code === '42704' || code === '3F000':
      return fail('undefined_object', `an object the statement names does not exist on ${where} (${state})`);
    case code === '28P01' || code === '28000':
      return fail(
        'unavailable',
        `PostgreSQL for ${where} refused the login: check the configured credentials`,
      );
    default:
      return fail('query_failed', `PostgreSQL error on ${where}: ${state}`);
  }
}

/** Server messages go to the audit record: never let a URL with a password through. */
function scrub(message: string): string {
  return message.replace(/postgres(ql)?:\/\/[^\s]*/gi, '[connection string]').slice(0, 500);
}
