import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { ToolError } from '../../contract/define-tool.js';
import { lineColumn } from './sql-lexer.js';

/**
 * Migration files and the ledger that records them. A file is `<version>_<name>.sql` (or with a
 * dash); versions are compared as numbers, so 2 comes before 10. The ledger lives in the target
 * database as public.day2_schema_migrations.
 */
export interface MigrationFile {
  version: string;
  name: string;
  file: string;
  sql: string;
  sha256: string;
}

export interface LedgerRow {
  version: string;
  name: string;
  checksum: string;
  applied_at: string;
  applied_by: string;
  duration_ms: number;
}

export const LEDGER_TABLE = 'public.day2_schema_migrations';

export const CREATE_LEDGER_SQL = `
  create table if not exists ${LEDGER_TABLE} (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now(),
    applied_by text not null,
    duration_ms integer not null
  )`;

const FILE_NAME = /^(\d+)[_-]([^/\\]+)\.sql$/;

/** Reads every `*.sql` file of a migrations folder, sorted by version. */
export async function readMigrations(folder: string): Promise<MigrationFile[]> {
  const dir = resolve(folder);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new ToolError(
      `the migrations folder ${folder} cannot be read`,
      'migrations_unreadable',
      'database',
    );
  }
  const out: MigrationFile[] = [];
  for (const file of names.filter((n) => n.endsWith('.sql'))) {
    const m = FILE_NAME.exec(file);
    if (!m)
      throw new ToolError(
        `migration file ${file} is not named <version>_<name>.sql`,
        'migration_name',
        'database',
      );
    const bytes = await readFile(join(dir, file));
    out.push({
      version: m[1]!,
      name: m[2]!,
      file,
      sql: bytes.toString('utf8'),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  out.sort((a, b) => compareVersions(a.version, b.version));
  for (let i = 1; i < out.length; i++) {
    if (compareVersions(out[i - 1]!.version, out[i]!.version) === 0) {
      throw new ToolError(
        `migrations ${out[i - 1]!.file} and ${out[i]!.file} have the same version`,
        'migration_version',
        'database',
      );
    }
  }
  return out;
}

export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The ledger rows, or none when the ledger table does not exist yet. */
export async function readLedger(c: pg.ClientBase): Promise<LedgerRow[]> {
  const [exists] = (await c.query<{ ok: boolean }>(`select to_regclass('${LEDGER_TABLE}') is not null as ok`))
    .rows;
  if (!exists?.ok) return [];
  const rows = (
    await c.query<Record<string, unknown>>(
      `select version, name, checksum, applied_at::text as applied_at, applied_by, duration_ms from ${LEDGER_TABLE}`,
    )
  ).rows;
  return rows
    .map((r) => ({
      version: String(r.version),
      name: String(r.name),
      checksum: String(r.checksum),
      applied_at: String(r.applied_at),
      applied_by: String(r.applied_by),
      duration_ms: Number(r.duration_ms),
    }))
    .sort((a, b) => compareVersions(a.version, b.version));
}

/** Where a migration failed, with the position mapped to the file's line and column. */
export interface MigrationFailure {
  file: string;
  version: string;
  message: string;
  sqlstate?: string;
  position?: number;
  line?: number;
  column?: number;
}

export function describeFailure(m: MigrationFile, err: unknown): MigrationFailure {
  const e = err as { message?: string; code?: string; position?: string };
  const position = e.position ? Number(e.position) : undefined;
  const at = position !== undefined ? lineColumn(m.sql, position - 1) : undefined;
  return {
    file: m.file,
    version: m.version,
    message: String(e.message ?? 'failed')
      .replace(/postgres(ql)?:\/\/\S*/gi, '[connection string]')
      .slice(0, 500),
    sqlstate: typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined,
    position,
    line: at?.line,
    column: at?.column,
  };
}

export function failureText(f: MigrationFailure): string {
  return `${f.file}${f.line !== undefined ? ` line ${f.line}, column ${f.column}` : ''}: ${f.message}${f.sqlstate ? ` (SQLSTATE ${f.sqlstate})` : ''}`;
}

const USER_SCHEMAS = (col: string) =>
  `${col} not in ('pg_catalog', 'information_schema') and ${col} !~ '^pg_toast' and ${col} !~ '^pg_temp'`;

/** A signature per user schema object, to tell what a migration created, dropped or altered. */
export async function catalogSnapshot(c: pg.ClientBase): Promise<Map<string, { kind: string; sig: string }>> {
  const rows = (
    await c.query<{ name: string; kind: string; sig: string }>(`
      select n.nspname || '.' || c.relname as name,
        case c.relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view' when 'm' then 'materialized view'
          when 'i' then 'index' when 'I' then 'index' when 'S' then 'sequence' when 'f' then 'foreign table' else c.relkind::text end as kind,
        md5(coalesce((select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
                 || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' order by a.attnum)
              from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '')
          || coalesce((select string_agg(k.conname || ' ' || pg_get_constraintdef(k.oid), ', ' order by k.conname) from pg_constraint k where k.conrelid = c.oid), '')
          || case when c.relkind in ('i', 'I') then pg_get_indexdef(c.oid) else '' end
          || case when c.relkind in ('v', 'm') then coalesce(pg_get_viewdef(c.oid), '') else '' end
          || coalesce(c.reloptions::text, '')) as sig
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'f') and ${USER_SCHEMAS('n.nspname')}
        and c.relname not in ('day2_schema_migrations', 'day2_schema_migrations_pkey')
      union all
      select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', 'function',
        md5(coalesce(p.prosrc, '') || coalesce(pg_get_function_result(p.oid), ''))
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where ${USER_SCHEMAS('n.nspname')}
      union all
      select n.nspname || '.' || t.typname, case t.typtype when 'e' then 'enum' else 'domain' end,
        md5(coalesce((select string_agg(e.enumlabel, ',' order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid), '')
          || coalesce(format_type(t.typbasetype, t.typtypmod), ''))
      from pg_type t join pg_namespace n on n.oid = t.typnamespace where t.typtype in ('e', 'd') and ${USER_SCHEMAS('n.nspname')}
      union all
      select n.nspname, 'schema', '' from pg_namespace n where ${USER_SCHEMAS('n.nspname')}`)
  ).rows;
  return new Map(rows.map((r) => [`${r.kind} ${r.name}`, { kind: r.kind, sig: r.sig }]));
}

export interface TouchedObject {
  kind: string;
  name: string;
  change: 'created' | 'dropped' | 'altered';
}

export function diffSnapshots(
  before: Map<string, { kind: string; sig: string }>,
  after: Map<string, { kind: string; sig: string }>,
): TouchedObject[] {
  const out: TouchedObject[] = [];
  const nameOf = (key: string, kind: string) => key.slice(kind.length + 1);
  for (const [key, v] of after) {
    const old = before.get(key);
    if (!old) out.push({ kind: v.kind, name: nameOf(key, v.kind), change: 'created' });
    else if (old.sig !== v.sig) out.push({ kind: v.kind, name: nameOf(key, v.kind), change: 'altered' });
  }
  for (const [key, v] of before)
    if (!after.has(key)) out.push({ kind: v.kind, name: nameOf(key, v.kind), change: 'dropped' });
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind));
}

/** Relation locks this backend holds now, as `relation mode` strings. */
export async function heldLocks(c: pg.ClientBase): Promise<Set<string>> {
  const rows = (
    await c.query<{ relation: string; mode: string }>(`
      select coalesce(n.nspname || '.' || c.relname, 'oid ' || l.relation::text) as relation, l.mode
      from pg_locks l left join pg_class c on c.oid = l.relation left join pg_namespace n on n.oid = c.relnamespace
      where l.pid = pg_backend_pid() and l.locktype = 'relation' and l.granted
        and (n.nspname is null or (${USER_SCHEMAS('n.nspname')}))`)
  ).rows;
  return new Set(rows.map((r) => `${r.relation}\u0000${r.mode}`));
}
