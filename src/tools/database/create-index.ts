import type pg from 'pg';
import { z } from 'zod';
import { closestNames } from '../../catalog/closest-names.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { writeStatusField } from '../../contract/fields.js';
import {
  clip,
  databaseTargetFields,
  formatBytes,
  num,
  text,
  lockTimeoutField,
  qualifiedNameField,
} from './database-fields.js';
import { hypopgSchema } from './index-proposals.js';
import { resolveDatabase } from './resolve-database.js';

interface TableFacts {
  oid: string;
  schema: string;
  table: string;
  bytes: number;
  rows: number;
  existing: { name: string; definition: string }[];
  estimated_bytes?: number;
}

export const createIndex = defineTool({
  name: 'create_index',
  title: 'Create an index',
  description:
    'CREATE INDEX CONCURRENTLY on a PostgreSQL table (as explain_query proposes); an index that fails to build is dropped.',
  toolset: 'database',
  effect: 'write',
  risk: 'low',
  input: {
    ...databaseTargetFields,
    table: qualifiedNameField,
    columns: z.array(z.string().min(1).max(63)).min(1).max(8),
    unique: z.boolean().optional(),
    lock_timeout_ms: lockTimeoutField,
  },
  output: {
    status: writeStatusField,
    env: z.string(),
    database: z.string(),
    index: z.string(),
    definition: z.string(),
    bytes: z.number(),
    duration_ms: z.number(),
  },
  async plan(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const facts = await ctx.deps.backends.postgres.readOnly(
      db,
      (c) => tableFacts(c, args.table, args.columns),
      {
        statementTimeoutMs: 10_000,
        lockTimeoutMs: 2_000,
      },
    );
    const name = indexName(facts.table, args.columns, args.unique);
    const statement = `CREATE ${args.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${quote(name)} ON ${quote(facts.schema)}.${quote(facts.table)} (${args.columns.map(quote).join(', ')})`;
    const same = facts.existing.find((e) => sameColumns(e.definition, args.columns));
    return {
      summary: `${statement} in ${db.env}/${db.database} (table ${formatBytes(facts.bytes)}, ~${facts.rows} rows)`,
      env: db.env,
      service: db.service,
      targets: [db.target, { kind: 'table', name: `${facts.schema}.${facts.table}` }],
      preconditions: { table_oid: facts.oid, statement, index: `${facts.schema}.${name}` },
      details: {
        statement,
        table: `${facts.schema}.${facts.table}`,
        table_bytes: facts.bytes,
        rows: facts.rows,
        ...(facts.estimated_bytes !== undefined
          ? {
              estimated_index_bytes: facts.estimated_bytes,
              estimated_size: formatBytes(facts.estimated_bytes),
            }
          : {}),
        existing_indexes: facts.existing.map((e) => clip(e.definition, 200)),
        locks:
          'CONCURRENTLY takes no lock that blocks reads or writes; it waits for transactions already running on the table, and scans it twice',
        way_back: `DROP INDEX CONCURRENTLY ${facts.schema}.${name}`,
      },
      ...(same
        ? {
            refusal: `${same.name} already indexes (${args.columns.join(', ')}): ${clip(same.definition, 200)}`,
          }
        : {}),
    };
  },
  async execute(args, ctx, plan) {
    const db = resolveDatabase(ctx.deps, args);
    const pgp = ctx.deps.backends.postgres;
    const [now] = await pgp.query(db, `select to_regclass($1)::oid::text as oid`, [args.table]);
    if (text(now?.oid) !== plan.preconditions.table_oid)
      throw new ToolError(
        `table ${args.table} changed since it was planned; plan again`,
        'precondition_failed',
        'table',
      );
    const started = Date.now();
    await ctx.progress(0, 1, `building ${plan.preconditions.index}`);
    try {
      await pgp.withClient(
        db,
        async (c) => {
          await c.query(`SET lock_timeout = ${args.lock_timeout_ms ?? 5000}`);
          await c.query('SET statement_timeout = 0');
          await c.query(plan.preconditions.statement);
        },
        { discard: true },
      );
    } catch (err) {
      // A failed concurrent build leaves an INVALID index behind: nothing half-done stays.
      await pgp
        .withClient(
          db,
          (c) => c.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(plan.preconditions.index)}`),
          {
            discard: true,
          },
        )
        .catch(() => undefined);
      throw err;
    }
    const [after] = await pgp.query(
      db,
      `select pg_relation_size(to_regclass($1)) as bytes, pg_get_indexdef(to_regclass($1)) as definition`,
      [qualified(plan.preconditions.index)],
    );
    await ctx.progress(1, 1, 'built');
    return {
      status: 'executed' as const,
      env: db.env,
      database: db.database,
      index: plan.preconditions.index,
      definition: text(after?.definition),
      bytes: num(after?.bytes),
      duration_ms: Date.now() - started,
    };
  },
  render(out) {
    return `built ${out.index} in ${out.env}/${out.database} in ${out.duration_ms} ms (${formatBytes(out.bytes)}): ${out.definition}\nway back: DROP INDEX CONCURRENTLY ${out.index}`;
  },
});

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function qualified(dotted: string): string {
  const dot = dotted.indexOf('.');
  return `${quote(dotted.slice(0, dot))}.${quote(dotted.slice(dot + 1))}`;
}

/** `<table>_<columns>_idx`, within PostgreSQL's 63 bytes. */
function indexName(table: string, columns: string[], unique?: boolean): string {
  const base = `${table}_${columns.join('_')}_${unique ? 'key' : 'idx'}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  return base.length <= 63 ? base : base.slice(0, 54) + '_' + base.length.toString(36) + '_idx';
}

/** Whether an index definition is a plain index on exactly these columns, in this order. */
function sameColumns(definition: string, columns: string[]): boolean {
  const m = /USING btree \(([^)]*)\)$/.exec(definition);
  if (!m) return false;
  const cols = m[1]!.split(',').map((x) => x.trim().replace(/^"|"$/g, '').toLowerCase());
  return cols.join(',') === columns.map((c) => c.toLowerCase()).join(',');
}

async function tableFacts(c: pg.ClientBase, table: string, columns: string[]): Promise<TableFacts> {
  const [t] = (
    await c.query<Record<string, unknown>>(
      `select cl.oid::text as oid, n.nspname as schema, cl.relname as tbl, pg_table_size(cl.oid) as bytes,
         (case when cl.reltuples >= 0 then cl.reltuples else coalesce(s.n_live_tup, 0) end)::float8 as rows
       from pg_class cl join pg_namespace n on n.oid = cl.relnamespace left join pg_stat_all_tables s on s.relid = cl.oid
       where cl.oid = to_regclass($1) and cl.relkind in ('r', 'p', 'm')`,
      [table],
    )
  ).rows;
  if (!t) {
    const names = (
      await c.query<{ name: string }>(
        `select relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where relkind in ('r', 'p') and nspname not in ('pg_catalog', 'information_schema') and nspname !~ '^pg_toast' limit 5000`,
      )
    ).rows.map((r) => r.name);
    const near = closestNames(table.split('.').pop()!, names, 3);
    throw new ToolError(
      `table: no table "${clip(table, 130)}"${near.length ? `; closest: ${near.join(', ')}` : ''}`,
      'not_found',
      'table',
    );
  }
  const known = (
    await c.query<{ name: string }>(
      `select attname as name from pg_attribute where attrelid = $1::oid and attnum > 0 and not attisdropped`,
      [t.oid],
    )
  ).rows.map((r) => r.name);
  for (const [i, col] of columns.entries()) {
    if (known.includes(col)) continue;
    const near = closestNames(col, known, 3);
    throw new ToolError(
      `columns[${i}]: ${text(t.schema)}.${text(t.tbl)} has no column "${clip(col, 63)}"${near.length ? `; closest: ${near.join(', ')}` : ''}`,
      'not_found',
      'columns',
    );
  }
  const existing = (
    await c.query<{ name: string; definition: string }>(
      `select ci.relname as name, pg_get_indexdef(i.indexrelid) as definition from pg_index i join pg_class ci on ci.oid = i.indexrelid where i.indrelid = $1::oid`,
      [t.oid],
    )
  ).rows;
  const facts: TableFacts = {
    oid: text(t.oid),
    schema: text(t.schema),
    table: text(t.tbl),
    bytes: num(t.bytes),
    rows: Math.round(num(t.rows)),
    existing,
  };
  // With hypopg, the size the index will take.
  const hypo = await hypopgSchema(c);
  if (hypo) {
    const fn = (name: string) => `${c.escapeIdentifier(hypo)}.${name}`;
    try {
      const made = await c.query<{ indexrelid: string }>(
        `select indexrelid::text from ${fn('hypopg_create_index')}($1)`,
        [`CREATE INDEX ON ${quote(facts.schema)}.${quote(facts.table)} (${columns.map(quote).join(', ')})`],
      );
      const id = made.rows[0]?.indexrelid;
      if (id)
        facts.estimated_bytes = num(
          (await c.query<{ b: string }>(`select ${fn('hypopg_relation_size')}($1::oid) as b`, [id])).rows[0]
            ?.b,
        );
    } finally {
      await c.query(`select ${fn('hypopg_reset')}()`).catch(() => undefined);
    }
  }
  return facts;
}
