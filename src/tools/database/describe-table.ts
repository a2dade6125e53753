import type pg from 'pg';
import { z } from 'zod';
import { closestNames } from '../../catalog/closest-names.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { clip, databaseTargetFields, formatBytes, num, text } from './database-fields.js';
import { resolveDatabase } from './resolve-database.js';
import { statisticsState, type StatisticsState } from './statistics.js';

const MAX_COLUMNS = 80;
const MAX_INDEXES = 30;

const columnSchema = z.object({
  name: z.string(),
  type: z.string(),
  nullable: z.boolean(),
  default: z.string().optional(),
});

const indexSchema = z.object({
  name: z.string(),
  definition: z.string(),
  bytes: z.number(),
  scans: z.number().describe('index scans since the statistics were reset'),
  unique: z.boolean(),
  primary: z.boolean(),
  valid: z.boolean(),
});

export const describeTable = defineTool({
  name: 'describe_table',
  title: 'Describe a table',
  description:
    'A PostgreSQL table: columns, indexes (size, scans), planner estimate vs live rows, dead rows, last (auto)vacuum/analyze, bloat.',
  toolset: 'database',
  effect: 'read',
  risk: 'low',
  input: {
    ...databaseTargetFields,
    table: z.string().min(1).max(130).describe('table name, may be schema-qualified'),
  },
  output: {
    env: z.string(),
    database: z.string(),
    table: z.string().describe('schema.table'),
    columns: z.array(columnSchema),
    indexes: z.array(indexSchema),
    rows: z.object({
      planner_estimate: z.number().describe('rows the planner expects for a full scan'),
      catalog_estimate: z
        .number()
        .nullable()
        .describe('pg_class.reltuples; null when never analyzed or vacuumed'),
      live: z.number().describe('live tuples counted by the statistics collector'),
      dead: z.number(),
      modified_since_analyze: z.number(),
    }),
    statistics: z.enum(['missing', 'stale', 'fresh']),
    bytes: z.object({ table: z.number(), indexes: z.number(), total: z.number() }),
    maintenance: z.object({
      last_vacuum: z.string().nullable(),
      last_autovacuum: z.string().nullable(),
      last_analyze: z.string().nullable(),
      last_autoanalyze: z.string().nullable(),
      autovacuum_enabled: z.boolean(),
    }),
    bloat: z.object({
      dead_percent: z.number().describe('dead tuples as a share of all tuples'),
      estimated_bytes: z.number().describe('table bytes beyond what live rows need, from statistics'),
    }),
    sequential_scans: z.number(),
    warnings: z.array(z.string()),
    truncated: z.boolean().describe('more columns or indexes than shown'),
  },
  async run(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const postgres = ctx.deps.backends.postgres;
    return postgres.readOnly(
      db,
      async (c) => {
        const oid = await findTable(c, args.table);
        // One connection runs one query at a time: these go in turn.
        const columns = await rows(
          c,
          `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
               pg_get_expr(d.adbin, d.adrelid) as default
             from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
             where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped order by a.attnum limit ${MAX_COLUMNS + 1}`,
          [oid],
        );
        const indexes = await rows(
          c,
          `select ci.relname as name, pg_get_indexdef(i.indexrelid) as definition, pg_relation_size(i.indexrelid) as bytes,
               coalesce(s.idx_scan, 0) as scans, i.indisunique as unique, i.indisprimary as primary, i.indisvalid as valid
             from pg_index i join pg_class ci on ci.oid = i.indexrelid
             left join pg_stat_all_indexes s on s.indexrelid = i.indexrelid
             where i.indrelid = $1 order by ci.relname limit ${MAX_INDEXES + 1}`,
          [oid],
        );
        const [info] = await rows(
          c,
          `select n.nspname as schema, cl.relname as name, cl.reltuples::float8 as reltuples,
               pg_table_size(cl.oid) as table_bytes, pg_indexes_size(cl.oid) as index_bytes,
               coalesce(s.n_live_tup, 0) as live, coalesce(s.n_dead_tup, 0) as dead,
               coalesce(s.n_mod_since_analyze, 0) as modified, coalesce(s.seq_scan, 0) as seq_scan,
               s.last_vacuum::text, s.last_autovacuum::text, s.last_analyze::text, s.last_autoanalyze::text,
               coalesce((select option_value::bool from pg_options_to_table(cl.reloptions) where option_name = 'autovacuum_enabled'), true)
                 and current_setting('autovacuum')::bool as autovacuum,
               (select sum(st.avg_width) from pg_stats st where st.schemaname = n.nspname and st.tablename = cl.relname) as row_width
             from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
             left join pg_stat_all_tables s on s.relid = cl.oid where cl.oid = $1`,
          [oid],
        );
        const planner = await plannerRows(c, oid);
        const r = info ?? {};
        const name = `${text(r.schema)}.${text(r.name)}`;
        const live = num(r.live);
        const dead = num(r.dead);
        const reltuples = num(r.reltuples);
        const catalogEstimate = reltuples < 0 ? null : reltuples;
        const modified = num(r.modified);
        const analyzed = r.last_analyze != null || r.last_autoanalyze != null;
        const state = statisticsState({ analyzed, live, modified, planner });
        const tableBytes = num(r.table_bytes);
        const width = num(r.row_width);
        // Live rows need about (row width + 28 bytes of tuple header and pointer) each.
        const needed = width > 0 ? live * (width + 28) : tableBytes;
        const warnings = statisticsWarnings(name, state, planner, live);
        const autovacuum = r.autovacuum === true;
        if (!autovacuum)
          warnings.push(
            `autovacuum is off for ${name}: dead rows and statistics are left to manual VACUUM (ANALYZE) ${name}`,
          );
        for (const ix of indexes.slice(0, MAX_INDEXES))
          if (ix.valid !== true)
            warnings.push(
              `index ${text(ix.name)} is INVALID (a failed concurrent build): reindex it or drop it`,
            );
        return {
          env: db.env,
          database: db.database,
          table: name,
          columns: columns.slice(0, MAX_COLUMNS).map((col) => ({
            name: text(col.name),
            type: text(col.type),
            nullable: col.nullable === true,
            ...(col.default != null ? { default: clip(text(col.default), 120) } : {}),
          })),
          indexes: indexes.slice(0, MAX_INDEXES).map((ix) => ({
            name: text(ix.name),
            definition: clip(text(ix.definition), 300),
            bytes: num(ix.bytes),
            scans: num(ix.scans),
            unique: ix.unique === true,
            primary: ix.primary === true,
            valid: ix.valid === true,
          })),
          rows: {
            planner_estimate: planner,
            catalog_estimate: catalogEstimate,
            live,
            dead,
            modified_since_analyze: modified,
          },
          statistics: state,
          bytes: { table: tableBytes, indexes: num(r.index_bytes), total: tableBytes + num(r.index_bytes) },
          maintenance: {
            last_vacuum: (r.last_vacuum as string | null) ?? null,
            last_autovacuum: (r.last_autovacuum as string | null) ?? null,
            last_analyze: (r.last_analyze as string | null) ?? null,
            last_autoanalyze: (r.last_autoanalyze as string | null) ?? null,
            autovacuum_enabled: autovacuum,
          },
          bloat: {
            dead_percent: live + dead > 0 ? Math.round((dead / (live + dead)) * 1000) / 10 : 0,
            estimated_bytes: Math.max(0, Math.round(tableBytes - needed)),
          },
          sequential_scans: num(r.seq_scan),
          warnings,
          truncated: columns.length > MAX_COLUMNS || indexes.length > MAX_INDEXES,
        };
      },
      { statementTimeoutMs: 10_000, lockTimeoutMs: 2_000 },
    );
  },
  render(out) {
    const head = `${out.env}/${out.database} ${out.table}: ~${out.rows.planner_estimate} rows planned, ${out.rows.live} live, ${out.rows.dead} dead; statistics ${out.statistics}; ${formatBytes(out.bytes.table)} table + ${formatBytes(out.bytes.indexes)} indexes`;
    const cols = `columns: ${out.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' not null'}`).join(', ')}`;
    const idx = out.indexes.map(
      (i) =>
        `- index ${i.name} (${formatBytes(i.bytes)}, ${i.scans} scans${i.valid ? '' : ', INVALID'}): ${i.definition}`,
    );
    const m = out.maintenance;
    const maint = `last vacuum ${m.last_vacuum ?? m.last_autovacuum ?? 'never'}, last analyze ${m.last_analyze ?? m.last_autoanalyze ?? 'never'}; ${out.sequential_scans} sequential scans; bloat ~${formatBytes(out.bloat.estimated_bytes)} (${out.bloat.dead_percent}% dead)`;
    return [
      head,
      cols,
      ...(idx.length ? idx : ['- no indexes']),
      maint,
      ...out.warnings.map((w) => `warning: ${w}`),
      ...(out.truncated ? [`(showing the first ${MAX_COLUMNS} columns and ${MAX_INDEXES} indexes)`] : []),
    ].join('\n');
  },
});

async function rows(c: pg.ClientBase, sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  return (await c.query<Record<string, unknown>>(sql, params)).rows;
}

/** The table's oid; an unknown name is an error that names the field and the closest tables. */
async function findTable(c: pg.ClientBase, table: string): Promise<number> {
  const found = await rows(
    c,
    `select to_regclass($1)::oid::bigint as oid, (select relkind::text from pg_class where oid = to_regclass($1)) as kind`,
    [table],
  ).catch(() => []);
  const oid = num(found[0]?.oid);
  if (oid && ['r', 'p', 'm'].includes(text(found[0]?.kind))) return oid;
  const names = (
    await rows(
      c,
      `select n.nspname || '.' || c.relname as name, c.relname as short from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
       order by 1 limit 5000`,
      [],
    )
  ).flatMap((r) => [text(r.short), text(r.name)]);
  const near = closestNames(table, names, 3);
  throw new ToolError(
    `table: no table "${clip(table, 130)}" in this database${near.length ? `; closest: ${near.join(', ')}` : ''}`,
    'not_found',
    'table',
  );
}

/** What the planner expects a full scan of the table to return: its estimate, whatever the catalog says. */
async function plannerRows(c: pg.ClientBase, oid: number): Promise<number> {
  const [r] = await rows(c, `select $1::oid::regclass::text as name`, [oid]);
  const plan = await rows(c, `explain (format json) select * from ${text(r?.name)}`, []);
  const doc = plan[0]?.['QUERY PLAN'] as [{ Plan: { 'Plan Rows': number } }] | undefined;
  return num(doc?.[0]?.Plan['Plan Rows']);
}

function statisticsWarnings(name: string, state: StatisticsState, planner: number, live: number): string[] {
  if (state === 'missing')
    return [
      `${name} has never been analyzed: the planner guesses ${planner} rows where ${live} are live, so its plans can be far off; run ANALYZE ${name}`,
    ];
  if (state === 'stale')
    return [
      `statistics for ${name} are stale: the planner expects ${planner} rows where ${live} are live; run ANALYZE ${name}`,
    ];
  return [];
}
