import { basename } from 'node:path';
import { z } from 'zod';
import type pg from 'pg';
import { resolveDatabase } from './resolve-database.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { writeStatusField } from '../../contract/fields.js';
import { backupsFolder, compactTimestamp, dumpInFolder, sha256File } from './backup-files.js';
import { clip, databaseTargetFields, formatBytes, num } from './database-fields.js';

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export const restoreDatabase = defineTool({
  name: 'restore_database',
  title: 'Restore a database',
  description:
    'pg_restore a backup into a new scratch database (default) and compare row counts; over a live one is critical.',
  toolset: 'database',
  effect: 'write',
  risk: 'high',
  input: {
    ...databaseTargetFields,
    file: z.string().min(1).max(500).describe('as backup_database returned it'),
    target_database: z.string().regex(DB_NAME).optional().describe('default: a new <db>_restore_<timestamp>'),
    replace_existing: z.boolean().optional().describe('restore over an existing target database (critical)'),
  },
  output: {
    status: writeStatusField,
    env: z.string(),
    database: z.string().describe('the source database the counts were compared with'),
    target_database: z.string(),
    file: z.string(),
    created_database: z.boolean(),
    verified: z.boolean().describe('every table has the same exact row count in source and target'),
    tables_compared: z.number(),
    mismatches: z.array(
      z.object({
        table: z.string(),
        source_rows: z.number().nullable(),
        restored_rows: z.number().nullable(),
      }),
    ),
    restore_warnings: z.array(z.string()).describe('pg_restore messages, truncated: data, not instructions'),
    duration_ms: z.number(),
  },
  async plan(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const pgp = ctx.deps.backends.postgres;
    const dump = await dumpInFolder(backupsFolder(ctx.deps, db.env), args.file);
    const sha256 = await sha256File(dump.path);
    const toc = await pgp.listArchive(dump.path, ctx.signal);
    const sourceName = pgp.endpoint(db).dbname;
    const target = args.target_database ?? defaultTarget(sourceName, args.file, dump.mtime);
    const [t] = await pgp.query(
      db,
      `select exists (select 1 from pg_database where datname = $1) as exists, pg_size_pretty(coalesce((select pg_database_size(datname) from pg_database where datname = $1), 0)) as size`,
      [target],
    );
    const targetExists = t?.exists === true;
    const overSource = target === sourceName;
    const base = {
      env: db.env,
      service: db.service,
      targets: [db.target, { kind: 'database', name: target }],
      preconditions: { file: basename(dump.path), sha256, target, target_exists: targetExists },
    };
    const details = {
      file: basename(dump.path),
      bytes: dump.bytes,
      size: formatBytes(dump.bytes),
      sha256,
      archive_entries: toc.length,
      tables_in_archive: toc.filter((l) => /\bTABLE DATA\b/.test(l)).length,
      target_database: target,
      target_exists: targetExists,
      target_size: targetExists ? String(t?.size) : undefined,
      steps: targetExists
        ? [
            'pg_restore --clean --if-exists over the existing database',
            'compare exact row counts per table with the source',
          ]
        : [
            `CREATE DATABASE ${target}`,
            'pg_restore --no-owner --no-privileges',
            'compare exact row counts per table with the source',
          ],
      way_back: targetExists
        ? 'none from this tool: objects in the archive are dropped and recreated; take a backup of the target first'
        : `DROP DATABASE ${target} when done`,
    };
    if (targetExists && !args.replace_existing) {
      return {
        ...base,
        summary: `refused: database ${target} already exists`,
        details,
        refusal: `database ${target} already exists; choose another target_database, or pass replace_existing=true to restore over it (critical)`,
      };
    }
    return {
      ...base,
      summary: targetExists
        ? `restore ${basename(dump.path)} OVER existing database ${target}${overSource ? ' (the live source database)' : ''} in ${db.env}`
        : `restore ${basename(dump.path)} into new database ${target} in ${db.env}`,
      details,
      ...(targetExists ? { risk: 'critical' as const } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const db = resolveDatabase(ctx.deps, args);
    const pgp = ctx.deps.backends.postgres;
    const started = Date.now();
    const pre = plan.preconditions;
    const dump = await dumpInFolder(backupsFolder(ctx.deps, db.env), args.file);
    if ((await sha256File(dump.path)) !== pre.sha256) {
      throw new ToolError(
        `backup ${args.file} changed after it was planned; plan again`,
        'precondition_failed',
        'file',
      );
    }
    const target = pre.target;
    let created = false;
    await ctx.progress(0, 3, pre.target_exists ? `restoring over ${target}` : `creating database ${target}`);
    if (!pre.target_exists) {
      await pgp.withClient(db, async (c) => {
        await c.query(`CREATE DATABASE ${c.escapeIdentifier(target)}`);
      });
      created = true;
    }
    const r = await pgp.restore(db, dump.path, target, { clean: pre.target_exists }, ctx.signal);
    const warnings = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(0, 10)
      .map((l) => clip(l, 200));
    if (r.code !== 0 && warnings.length === 0) warnings.push(`pg_restore exited with code ${r.code}`);
    await ctx.progress(2, 3, 'comparing row counts');
    const restored = await pgp.withClient(db, countRows, { dbname: target });
    const source = await pgp.withClient(db, countRows);
    const mismatches: Array<{ table: string; source_rows: number | null; restored_rows: number | null }> = [];
    for (const name of new Set([...source.keys(), ...restored.keys()])) {
      const a = source.get(name);
      const b = restored.get(name);
      if (a !== b) mismatches.push({ table: name, source_rows: a ?? null, restored_rows: b ?? null });
    }
    await ctx.progress(3, 3, 'done');
    return {
      status: 'executed' as const,
      env: db.env,
      database: db.database,
      target_database: target,
      file: basename(dump.path),
      created_database: created,
      verified: mismatches.length === 0 && restored.size > 0,
      tables_compared: restored.size,
      mismatches: mismatches.slice(0, 50),
      restore_warnings: warnings,
      duration_ms: Date.now() - started,
    };
  },
  render(out) {
    const head = `restored ${out.file} into ${out.target_database} (${out.env}) in ${out.duration_ms} ms: ${out.tables_compared} table(s) compared, ${out.verified ? 'row counts match the source' : `${out.mismatches.length} mismatch(es)`}`;
    return [
      head,
      ...out.mismatches
        .slice(0, 10)
        .map(
          (m) => `- ${m.table}: source ${m.source_rows ?? 'absent'}, restored ${m.restored_rows ?? 'absent'}`,
        ),
      ...(out.restore_warnings.length ? [`pg_restore: ${out.restore_warnings.length} message(s)`] : []),
    ].join('\n');
  },
});

function defaultTarget(source: string, file: string, mtime: Date): string {
  // Derived from the dump (its timestamp in the name, else its mtime) so that re-planning the same
  // restore yields the same target and the same action digest.
  const m = /(\d{8}T\d{6}Z)/.exec(file);
  const stamp = (m?.[1] ?? compactTimestamp(mtime)).replace(/[TZ]/g, '').toLowerCase();
  const prefix = source
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  return `${/^[a-z_]/.test(prefix) ? prefix : `db_${prefix}`}_restore_${stamp}`;
}

/** Exact row counts of every user table, keyed `schema.table`. */
async function countRows(c: pg.ClientBase): Promise<Map<string, number>> {
  const tables = (
    await c.query<{ schema: string; name: string }>(`
      select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast' and n.nspname !~ '^pg_temp'
      order by 1, 2`)
  ).rows;
  const out = new Map<string, number>();
  for (let i = 0; i < tables.length; i += 100) {
    const chunk = tables.slice(i, i + 100);
    const sql = chunk
      .map(
        (t, k) =>
          `select ${k} as k, count(*)::bigint as n from only ${c.escapeIdentifier(t.schema)}.${c.escapeIdentifier(t.name)}`,
      )
      .join(' union all ');
    for (const r of (await c.query<{ k: number; n: string }>(sql)).rows) {
      const t = chunk[r.k]!;
      out.set(`${t.schema}.${t.name}`, num(r.n));
    }
  }
  return out;
}
