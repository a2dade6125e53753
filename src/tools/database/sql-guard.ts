import { SqlLexError, splitStatements, tokenize, type Token } from './sql-lexer.js';

/**
 * Guards for SQL that day2 runs on a model's behalf. These are token checks over a real lexer, so
 * comments, literals, quoting, casing and schema qualification cannot hide a statement or a call.
 * They are one layer: explain_query also runs inside a READ ONLY transaction with a timeout.
 */

export type GuardResult =
  | { ok: true; statement: string; kind: 'select' | 'with' | 'values' | 'table' }
  | { ok: false; reason: string; position?: number };

const READ_STARTS = new Set(['select', 'with', 'values', 'table']);

/**
 * Keywords that make a query write, lock or create something. A statement must start with
 * SELECT/WITH/VALUES/TABLE, so inside it only a CTE body (INSERT/UPDATE/DELETE/MERGE), SELECT INTO
 * and FOR UPDATE matter; the rest is belt and braces.
 */
const WRITE_KEYWORDS = new Set([
  'insert',
  'update',
  'delete',
  'merge',
  'into',
  'truncate',
  'drop',
  'alter',
  'create',
  'grant',
  'revoke',
  'copy',
  'call',
  'do',
  'lock',
  'vacuum',
  'notify',
  'listen',
  'unlisten',
  'prepare',
  'execute',
  'deallocate',
  'declare',
]);

/** Functions refused by exact name. */
const DENIED_FUNCTIONS = new Set([
  'set_config',
  'current_setting',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_signal_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_stat_file',
  'nextval',
  'setval',
  'ts_stat',
  'pg_notify',
  'pg_export_snapshot',
  'pg_switch_wal',
  'pg_promote',
  'pg_create_restore_point',
  'pg_log_backend_memory_contexts',
  'pg_import_system_collations',
  'pg_logical_emit_message',
  'pg_current_xact_id',
  'pg_current_xact_id_if_assigned',
  'pg_current_snapshot',
  'pg_drop_replication_slot',
  'loread',
  'lowrite',
  'pg_stat_statements_reset',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_wal_replay_pause',
  'pg_wal_replay_resume',
  'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'pg_partition_tree_refresh',
  'pg_xact_commit_timestamp_origin',
]);

/** Functions refused by name prefix: whole families that read files, sleep, or reach out. */
const DENIED_PREFIXES = [
  'pg_read_',
  'pg_ls_',
  'pg_sleep',
  'pg_file_',
  'pg_logdir_',
  'dblink',
  'lo_',
  'pg_advisory',
  'pg_try_advisory',
  'txid_',
  'pg_stat_reset',
  'pg_replication_',
  'pg_create_',
  'pg_logical_slot_',
  'pg_replication_slot_',
  'query_to_xml',
  'table_to_xml',
  'schema_to_xml',
  'database_to_xml',
];

/**
 * Checks that `sql` is one read-only query: a single statement beginning with SELECT, WITH, VALUES
 * or TABLE, with no data-modifying CTE, no SELECT INTO, no row-locking clause, and no call of a
 * function that reads files, sleeps, signals backends, takes advisory locks or changes settings.
 * Returns the statement without its trailing semicolon.
 */
export function checkReadOnlyQuery(sql: string): GuardResult {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch (e) {
    if (e instanceof SqlLexError)
      return { ok: false, reason: `the query cannot be read: ${e.message}`, position: e.position };
    throw e;
  }
  const statements = splitStatements(tokens);
  if (statements.length === 0) return { ok: false, reason: 'the query is empty' };
  if (statements.length > 1) {
    return {
      ok: false,
      reason: 'only one statement is allowed (found a second statement after ";")',
      position: statements[1]![0]!.start,
    };
  }
  const stmt = statements[0]!;
  // A semicolon may only end the text: tokens after it were split into another statement above.
  const first = stmt.find((t) => !(t.kind === 'punct' && t.value === '('));
  if (!first || first.kind !== 'word' || !READ_STARTS.has(first.value)) {
    return {
      ok: false,
      reason: 'only SELECT, WITH, VALUES or TABLE queries can be explained',
      position: first?.start ?? 0,
    };
  }
  for (let i = 0; i < stmt.length; i++) {
    const t = stmt[i]!;
    if (t.unicodeEscapes)
      return { ok: false, reason: 'U& escaped strings and identifiers are not allowed', position: t.start };
    if (t.kind === 'word') {
      if (WRITE_KEYWORDS.has(t.value)) {
        const what =
          t.value === 'into'
            ? 'SELECT ... INTO creates a table'
            : `"${t.value.toUpperCase()}" is not allowed in a read-only query`;
        return { ok: false, reason: what, position: t.start };
      }
      if (t.value === 'for' && isLockingClause(stmt, i)) {
        return {
          ok: false,
          reason: 'row-locking clauses (FOR UPDATE / FOR SHARE) are not allowed',
          position: t.start,
        };
      }
    }
    if ((t.kind === 'word' || t.kind === 'quoted_ident') && isCall(stmt, i)) {
      const name = t.value.toLowerCase();
      const denied = deniedFunction(name, stmt, i);
      if (denied) return { ok: false, reason: denied, position: t.start };
    }
  }
  // Only one non-empty statement exists, so a semicolon can only end the text.
  const semi = tokens.find((t) => t.kind === 'punct' && t.value === ';');
  const statement = semi ? sql.slice(0, semi.start) : sql;
  return { ok: true, statement, kind: first.value as 'select' | 'with' | 'values' | 'table' };
}

/** True when the token at `i` is a function name: followed by "(" (comments are already gone). */
function isCall(stmt: readonly Token[], i: number): boolean {
  const next = stmt[i + 1];
  return next?.kind === 'punct' && next.value === '(';
}

function isLockingClause(stmt: readonly Token[], i: number): boolean {
  const a = stmt[i + 1];
  const b = stmt[i + 2];
  if (a?.kind !== 'word') return false;
  if (a.value === 'update' || a.value === 'share') return true;
  return (
    (a.value === 'no' && b?.kind === 'word' && b.value === 'key') ||
    (a.value === 'key' && b?.kind === 'word' && b.value === 'share')
  );
}

const SENSITIVE_SETTING =
  /(password|passwd|secret|key|ssl|file|dir|path|conninfo|library|libraries|command|archive|restore|primary|krb|ldap|hba|ident|log_)/;

function deniedFunction(name: string, stmt: readonly Token[], i: number): string | undefined {
  if (name === 'current_setting') {
    // current_setting('work_mem') is harmless; a computed or sensitive setting name is not.
    const arg = stmt[i + 2];
    if (arg?.kind === 'string' && !SENSITIVE_SETTING.test(arg.value.toLowerCase())) return undefined;
    return 'current_setting() is only allowed with a literal, non-sensitive setting name';
  }
  if (
    DENIED_FUNCTIONS.has(name) ||
    DENIED_PREFIXES.some((p) => name.startsWith(p)) ||
    name.endsWith('_to_xmlschema')
  ) {
    return `the function ${name}() is not allowed in explain_query`;
  }
  return undefined;
}

/** Statements that must not appear in a migration file: day2 owns the transaction around each file. */
const MIGRATION_FORBIDDEN: Array<{ words: string[]; reason: string }> = [
  { words: ['begin'], reason: 'transaction control (BEGIN)' },
  { words: ['start', 'transaction'], reason: 'transaction control (START TRANSACTION)' },
  { words: ['commit'], reason: 'transaction control (COMMIT)' },
  { words: ['end'], reason: 'transaction control (END)' },
  { words: ['abort'], reason: 'transaction control (ABORT)' },
  { words: ['prepare', 'transaction'], reason: 'two-phase commit (PREPARE TRANSACTION)' },
  { words: ['vacuum'], reason: 'VACUUM cannot run inside a transaction' },
  { words: ['create', 'database'], reason: 'CREATE DATABASE cannot run inside a transaction' },
  { words: ['drop', 'database'], reason: 'DROP DATABASE cannot run inside a transaction' },
  { words: ['alter', 'system'], reason: 'ALTER SYSTEM changes the server configuration' },
  { words: ['create', 'tablespace'], reason: 'CREATE TABLESPACE cannot run inside a transaction' },
  { words: ['drop', 'tablespace'], reason: 'DROP TABLESPACE cannot run inside a transaction' },
];

export interface MigrationStatementProblem {
  reason: string;
  position: number;
}

/**
 * Finds statements in a migration file that would break the transaction day2 wraps around it
 * (COMMIT, ROLLBACK, VACUUM, CONCURRENTLY, ...). Returns undefined when the file is acceptable.
 */
export function checkMigrationSql(sql: string): MigrationStatementProblem | undefined {
  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch (e) {
    if (e instanceof SqlLexError) return { reason: e.message, position: e.position };
    throw e;
  }
  for (const stmt of splitStatements(tokens)) {
    const words = stmt.slice(0, 3).map((t) => (t.kind === 'word' ? t.value : ''));
    for (const rule of MIGRATION_FORBIDDEN) {
      if (rule.words.every((w, k) => words[k] === w))
        return { reason: rule.reason, position: stmt[0]!.start };
    }
    if (words[0] === 'rollback' && !(words[1] === 'to' || words[1] === 'prepared')) {
      return { reason: 'transaction control (ROLLBACK)', position: stmt[0]!.start };
    }
    if (words[0] === 'commit' || (words[0] === 'rollback' && words[1] === 'prepared')) {
      return { reason: 'two-phase commit control', position: stmt[0]!.start };
    }
    if (
      (words[0] === 'create' || words[0] === 'drop' || words[0] === 'reindex') &&
      stmt.some((t) => t.kind === 'word' && t.value === 'concurrently')
    ) {
      return { reason: 'CONCURRENTLY cannot run inside a transaction', position: stmt[0]!.start };
    }
  }
  return undefined;
}
