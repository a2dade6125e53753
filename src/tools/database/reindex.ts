import { z } from 'zod';
import { resolveDatabase } from './resolve-database.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { writeStatusField } from '../../contract/fields.js';
import {
  clip,
  databaseTargetFields,
  formatBytes,
  num,
  lockTimeoutField,
  qualifiedNameField,
} from './database-fields.js';

const INDEX_SQL = `
  select ci.oid::bigint as oid, n.nspname as schema, ci.relname as index, ct.relname as tbl, i.indisvalid as valid,
    pg_relation_size(ci.oid) as bytes, pg_get_indexdef(ci.oid) as definition, current_setting('server_version_num')::int as version
  from pg_class ci join pg_index i on i.indexrelid = ci.oid join pg_class ct on ct.oid = i.indrelid
  join pg_namespace n on n.oid = ci.relnamespace
  where ci.relkind = 'i' and ci.relname = $1 and ($2::text is null or n.nspname = $2)
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'`;

export const reindex = defineTool({
  name: 'reindex',
  title: 'Rebuild an index',
  description: 'REINDEX INDEX CONCURRENTLY one PostgreSQL index, e.g. an invalid or bloated one.',
  toolset: 'database',
  effect: 'write',
  risk: 'low',
  input: {
    ...databaseTargetFields,
    index: qualifiedNameField,
    lock_timeout_ms: lockTimeoutField,
  },
  output: {
    status: writeStatusField,
    env: z.string(),
    database: z.string(),
    index: z.string(),
    bytes_before: z.number(),
    bytes_after: z.number(),
    valid_before: z.boolean(),
    valid_after: z.boolean(),
    duration_ms: z.number(),
  },
  async plan(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const ix = await findIndex(ctx.deps.backends.postgres, db, args.index);
    const name = `${ix.schema as string}.${ix.index as string}`;
    const bytes = num(ix.bytes);
    return {
      summary: `REINDEX INDEX CONCURRENTLY ${name} (${formatBytes(bytes)}${ix.valid ? '' : ', INVALID'}) in ${db.env}/${db.database}`,
      env: db.env,
      service: db.service,
      targets: [db.target, { kind: 'index', name }],
      preconditions: { index_oid: String(ix.oid), definition: ix.definition },
      details: {
        index: name,
        table: `${ix.schema as string}.${ix.tbl as string}`,
        bytes,
        size: formatBytes(bytes),
        invalid: ix.valid !== true,
        definition: clip(ix.definition as string, 500),
        statement: `REINDEX INDEX CONCURRENTLY ${name}`,
        notes:
          'builds a new copy next to the old one (needs free disk about the index size), then swaps; a failure leaves an invalid *_ccnew index to drop',
      },
      ...(num(ix.version) < 120000 ? { refusal: 'REINDEX CONCURRENTLY needs PostgreSQL 12 or later' } : {}),
    };
  },
  async execute(args, ctx, plan) {
    const db = resolveDatabase(ctx.deps, args);
    const pgp = ctx.deps.backends.postgres;
    const before = await findIndex(pgp, db, args.index);
    if (
      String(before.oid) !== plan.preconditions.index_oid ||
      before.definition !== plan.preconditions.definition
    ) {
      throw new ToolError(
        `index ${args.index} changed since it was planned; plan again`,
        'precondition_failed',
        'index',
      );
    }
    const name = `${before.schema as string}.${before.index as string}`;
    const started = Date.now();
    await pgp.withClient(
      db,
      async (c) => {
        await c.query(`SET lock_timeout = ${args.lock_timeout_ms ?? 5000}`);
        await c.query('SET statement_timeout = 0');
        await c.query(
          `REINDEX INDEX CONCURRENTLY ${c.escapeIdentifier(before.schema as string)}.${c.escapeIdentifier(before.index as string)}`,
        );
      },
      { discard: true },
    );
    const duration = Date.now() - started;
    const after = await findIndex(pgp, db, name);
    return {
      status: 'executed' as const,
      env: db.env,
      database: db.database,
      index: name,
      bytes_before: num(before.bytes),
      bytes_after: num(after.bytes),
      valid_before: before.valid === true,
      valid_after: after.valid === true,
      duration_ms: duration,
    };
  },
  render(out) {
    return `reindexed ${out.index} in ${out.env}/${out.database} in ${out.duration_ms} ms: ${formatBytes(out.bytes_before)} → ${formatBytes(out.bytes_after)}${out.valid_before ? '' : ', was invalid'}${out.valid_after ? ', valid now' : ', STILL INVALID'}`;
  },
});

async function findIndex(
  pgp: {
    query: (
      ref: { env: string; database: string },
      sql: string,
      params: unknown[],
    ) => Promise<Record<string, unknown>[]>;
  },
  db: { env: string; database: string },
  spec: string,
) {
  const dot = spec.indexOf('.');
  const [schema, name] = dot > 0 ? [spec.slice(0, dot), spec.slice(dot + 1)] : [null, spec];
  const rows = await pgp.query(db, INDEX_SQL, [name, schema]);
  if (rows.length === 0)
    throw new ToolError(
      `no index "${spec}" in ${db.env}/${db.database}; db_health lists invalid and bloated indexes`,
      'not_found',
      'index',
    );
  if (rows.length > 1)
    throw new ToolError(
      `index name "${spec}" exists in several schemas (${rows.map((r) => r.schema as string).join(', ')}); qualify it as schema.index`,
      'ambiguous',
      'index',
    );
  return rows[0]!;
}
