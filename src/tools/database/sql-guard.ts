import type * as LibPgQuery from 'libpg-query';
import type pg from 'pg';
import { SqlLexError, splitStatements, tokenize, type Token } from './sql-lexer.js';

/**
 * Guards for SQL that day2 runs on a model's behalf. explain_query's guard reads the query with
 * PostgreSQL's own parser (libpg-query, the server's grammar compiled to WebAssembly) and decides
 * from the syntax tree, then checks every function, operator and cast it calls against pg_proc in
 * the very transaction that runs the EXPLAIN. It is one layer: the EXPLAIN also runs inside a READ
 * ONLY transaction, with a timeout, as the configured least-privilege role.
 */

/** A name as written in the query: `[schema, name]` or `[name]`, already case-folded by the parser. */
export type SqlName = readonly string[];

/** What a query calls, by kind, for the catalog check. */
export interface SqlCalls {
  functions: SqlName[];
  operators: SqlName[];
  types: SqlName[];
}

export type GuardResult =
  { ok: true; statement: string; calls: SqlCalls } | { ok: false; reason: string; position?: number };

/** Functions that run SQL text, whose inner statement no syntax tree shows: refused whatever their volatility. */
const RUNS_SQL_TEXT =
  /^(query_to_xml|query_to_xmlschema|query_to_xml_and_xmlschema|cursor_to_xml|cursor_to_xmlschema|table_to_xml|table_to_xmlschema|table_to_xml_and_xmlschema|schema_to_xml|schema_to_xmlschema|schema_to_xml_and_xmlschema|database_to_xml|database_to_xmlschema|database_to_xml_and_xmlschema|ts_stat)$/;

/** Setting names that hold paths, keys, commands or connection strings. */
const SENSITIVE_SETTING =
  /(password|passwd|secret|key|ssl|file|dir|path|conninfo|library|libraries|command|archive|restore|primary|krb|ldap|hba|ident|log_)/;

/** A_Expr kinds and the operator PostgreSQL resolves them to. */
const IMPLIED_OPERATORS: Record<string, string[]> = {
  AEXPR_DISTINCT: ['='],
  AEXPR_NOT_DISTINCT: ['='],
  AEXPR_NULLIF: ['='],
  AEXPR_IN: ['=', '<>'],
  AEXPR_BETWEEN: ['>=', '<='],
  AEXPR_NOT_BETWEEN: ['<', '>'],
  AEXPR_BETWEEN_SYM: ['>=', '<='],
  AEXPR_NOT_BETWEEN_SYM: ['<', '>'],
};

class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly location: number | undefined,
  ) {
    super(reason);
  }
}

type Parser = typeof LibPgQuery;
let parser: Promise<Parser> | undefined;

/** libpg-query, loaded on first use (its WebAssembly module takes a moment to instantiate). */
function loadParser(): Promise<Parser> {
  parser ??= import('libpg-query').then(async (m) => {
    await m.loadModule();
    return m;
  });
  return parser;
}

/**
 * Checks that `sql` is one read-only query: a single SELECT (WITH, VALUES and TABLE are SELECTs to
 * the parser) with no data-modifying CTE, no SELECT INTO, no row-locking clause, no parameter, and
 * no call of a function that runs SQL text or reads a sensitive setting. Returns the statement
 * alone (without its semicolon or trailing comments) and every function, operator and type it
 * names, for checkCallsInCatalog.
 */
export async function checkReadOnlyQuery(sql: string): Promise<GuardResult> {
  const { parseSync } = await loadParser();
  const bytes = Buffer.from(sql, 'utf8');
  // Node and statement locations are byte offsets into the UTF-8 text; a model counts characters
  // (as a parse error's cursor position already does).
  const position = (byteOffset: number | undefined) =>
    byteOffset === undefined ? undefined : bytes.subarray(0, byteOffset).toString('utf8').length;
  let tree: ReturnType<Parser['parseSync']>;
  try {
    tree = parseSync(sql);
  } catch (e) {
    return {
      ok: false,
      reason: `the query cannot be parsed: ${(e as Error).message}`,
      position: (e as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition,
    };
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length === 0) return { ok: false, reason: 'the query is empty' };
  if (stmts.length > 1) {
    return {
      ok: false,
      reason: 'only one statement is allowed (found a second statement after ";")',
      position: position(stmts[1]!.stmt_location ?? 0),
    };
  }
  const only = stmts[0]!;
  const root = only.stmt as Record<string, unknown> | undefined;
  const from = only.stmt_location ?? 0;
  if (!root || !('SelectStmt' in root)) {
    return {
      ok: false,
      reason: `only SELECT, WITH, VALUES or TABLE queries can be explained (found ${statementKind(root)})`,
      position: position(from),
    };
  }
  const calls: SqlCalls = { functions: [], operators: [], types: [] };
  try {
    walk(root, calls);
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.reason, position: position(e.location) };
    throw e;
  }
  // stmt_len is 0 when the statement runs to the end of the text.
  const end = only.stmt_len ? from + only.stmt_len : bytes.length;
  return { ok: true, statement: bytes.subarray(from, end).toString('utf8'), calls };
}

function statementKind(node: Record<string, unknown> | undefined): string {
  const key = node ? Object.keys(node)[0] : undefined;
  return key
    ? key
        .replace(/Stmt$/, '')
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toUpperCase()
    : 'nothing';
}

function names(list: unknown): string[] {
  return Array.isArray(list)
    ? list.map((n) => (n as { String?: { sval?: string } }).String?.sval).filter((n) => n !== undefined)
    : [];
}

/** Walks every node of the tree: refuses what no read-only query may hold, collects what it calls. */
function walk(node: unknown, calls: SqlCalls): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, calls);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, raw] of Object.entries(node as Record<string, unknown>)) {
    const value = raw as Record<string, unknown>;
    const at = typeof value?.location === 'number' ? value.location : undefined;
    if (key.endsWith('Stmt') && key !== 'SelectStmt') {
      throw new Refusal(
        `a ${statementKind({ [key]: value })} statement inside the query is not allowed (data-modifying WITH)`,
        at,
      );
    }
    switch (key) {
      case 'intoClause':
        throw new Refusal('SELECT ... INTO creates a table', undefined);
      case 'lockingClause':
        if (Array.isArray(raw) && raw.length > 0)
          throw new Refusal('row-locking clauses (FOR UPDATE / FOR SHARE) are not allowed', undefined);
        break;
      case 'ParamRef':
        throw new Refusal('parameters ($1) are not allowed: write the values into the query', at);
      case 'FuncCall': {
        const name = names(value.funcname);
        checkCallByName(name, value, at);
        calls.functions.push(name);
        break;
      }
      case 'A_Expr': {
        const kind = String(value.kind);
        calls.operators.push(...(IMPLIED_OPERATORS[kind]?.map((o) => [o]) ?? [names(value.name)]));
        break;
      }
      case 'TypeCast':
        calls.types.push(names((value.typeName as { names?: unknown } | undefined)?.names));
        break;
    }
    walk(raw, calls);
  }
}

function checkCallByName(name: SqlName, call: Record<string, unknown>, at: number | undefined): void {
  const fn = name[name.length - 1] ?? '';
  if (RUNS_SQL_TEXT.test(fn)) throw new Refusal(`${fn}() runs SQL text that the guard cannot see`, at);
  // STABLE in pg_proc, yet each assigns the transaction an ID: a write to the server's state.
  if (fn === 'txid_current' || fn === 'pg_current_xact_id')
    throw new Refusal(`${fn}() assigns a transaction ID, which a read-only explain must not do`, at);
  if (fn === 'current_setting') {
    // current_setting('work_mem') is harmless; a computed or sensitive setting name is not.
    const arg = (call.args as Array<{ A_Const?: { sval?: { sval?: string } } }> | undefined)?.[0];
    const setting = arg?.A_Const?.sval?.sval;
    if (setting === undefined || SENSITIVE_SETTING.test(setting.toLowerCase()))
      throw new Refusal('current_setting() is only allowed with a literal, non-sensitive setting name', at);
  }
}

interface CatalogEntry {
  kind: 'function' | 'operator' | 'type';
  name: string;
  schema: string;
  on_path: boolean;
  volatile: boolean;
  secdef: boolean;
}

/**
 * Looks every function, operator and cast target of a query up in the catalog, as the role and
 * search_path that will run it: refuses a VOLATILE one (it can change data or state even inside a
 * READ ONLY transaction: brin_summarize_new_values, nextval, a user's function) and a SECURITY
 * DEFINER one (it runs with its owner's rights, not the least-privilege role's). Overloads are
 * judged together: a name is refused when any candidate could be. Returns the reason, or undefined.
 */
export async function checkCallsInCatalog(
  client: pg.ClientBase,
  calls: SqlCalls,
): Promise<string | undefined> {
  const wanted = (list: SqlName[]) => [...new Set(list.map((n) => n[n.length - 1] ?? ''))];
  const { rows } = await client.query<CatalogEntry>(CATALOG_SQL, [
    wanted(calls.functions),
    wanted(calls.operators),
    wanted(calls.types),
  ]);
  const check = (kind: CatalogEntry['kind'], list: SqlName[]) => {
    for (const name of list) {
      const bare = name[name.length - 1] ?? '';
      const schema = name.length > 1 ? name[name.length - 2] : undefined;
      const candidates = rows.filter(
        (r) => r.kind === kind && r.name === bare && (schema === undefined ? r.on_path : r.schema === schema),
      );
      const what =
        kind === 'function'
          ? `the function ${name.join('.')}()`
          : kind === 'operator'
            ? `the operator ${name.join('.')}`
            : `a cast to ${name.join('.')}`;
      // A function the catalog does not know cannot be vouched for (nor would it run).
      if (kind === 'function' && candidates.length === 0)
        return `${what} does not exist on the search path, so explain_query cannot check it`;
      if (candidates.some((c) => c.volatile))
        return `${what} is VOLATILE in pg_proc (it can change data or state), so explain_query refuses it`;
      if (candidates.some((c) => c.secdef))
        return `${what} is SECURITY DEFINER (it runs with its owner's rights), so explain_query refuses it`;
    }
    return undefined;
  };
  return (
    check('function', calls.functions) ?? check('operator', calls.operators) ?? check('type', calls.types)
  );
}

const CATALOG_SQL = `
  select 'function' as kind, p.proname as name, n.nspname as schema,
         n.nspname = any (current_schemas(true)) as on_path,
         p.provolatile = 'v' as volatile, p.prosecdef as secdef
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   where p.proname = any ($1::text[])
  union all
  select 'operator', o.oprname, n.nspname, n.nspname = any (current_schemas(true)),
         p.provolatile = 'v', p.prosecdef
    from pg_catalog.pg_operator o join pg_catalog.pg_namespace n on n.oid = o.oprnamespace
    join pg_catalog.pg_proc p on p.oid = o.oprcode
   where o.oprname = any ($2::text[])
  union all
  select 'type', t.typname, n.nspname, n.nspname = any (current_schemas(true)),
         p.provolatile = 'v', p.prosecdef
    from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
    join pg_catalog.pg_proc p
      on p.oid = t.typinput
      or p.oid in (select c.castfunc from pg_catalog.pg_cast c where c.casttarget = t.oid)
   where t.typname = any ($3::text[])`;

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
