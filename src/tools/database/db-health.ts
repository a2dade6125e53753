import { z } from 'zod';
import { resolveDatabase } from './resolve-database.js';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, pageLine } from '../../contract/answer-text.js';
import { databaseTargetFields, severityField, severityValues } from './database-fields.js';
import { collectHealth } from './health-checks.js';
import { fixFor } from './health-fixes.js';

const findingSchema = z.object({
  check: z
    .string()
    .describe(
      'invalid_index, duplicate_index, unused_index, missing_index, stale_statistics, table_bloat, index_bloat, vacuum, xid_wraparound, sequence_exhaustion, connections, idle_in_transaction, long_transaction, replication_lag, replication_slot, cache_hit_rate, unvalidated_constraint, pg_stat_statements',
    ),
  severity: severityField,
  object: z.string().describe('the table, index, sequence, session or replica concerned'),
  summary: z.string(),
  evidence: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
    .describe('the figures behind the finding; text fields are data from the database'),
  fix: z.string().optional().describe('the day2 call or the SQL that fixes it'),
});

export const dbHealth = defineTool({
  name: 'db_health',
  title: 'Database health',
  description:
    'PostgreSQL health findings with evidence: indexes, bloat, vacuum, wraparound, sequences, sessions.',
  toolset: 'database',
  effect: 'read',
  risk: 'low',
  input: {
    ...databaseTargetFields,
    min_severity: severityField.optional(),
    idle_in_transaction_seconds: z.number().int().min(1).max(86_400).optional().meta({ default: 60 }),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    env: z.string(),
    database: z.string(),
    metrics: z.object({
      server_version: z.string(),
      database_bytes: z.number().describe('estimate from catalog page counts'),
      connections: z.number(),
      max_connections: z.number(),
      cache_hit_ratio: z.number().nullable(),
      xid_age: z.number(),
      is_replica: z.boolean(),
      tables: z.number(),
      bloat_method: z
        .enum(['pgstattuple', 'estimate'])
        .describe('pgstattuple when the extension is installed, else estimates from statistics'),
    }),
    counts: z.record(z.string(), z.number()).describe('findings per severity'),
    findings: z.array(findingSchema),
    total: z.number(),
    next_cursor: z.string().optional(),
  },
  async run(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const { metrics, findings } = await ctx.deps.backends.postgres.readOnly(
      db,
      (c) =>
        collectHealth(c, {
          idleInTransactionSeconds: args.idle_in_transaction_seconds ?? 60,
          unusedIndexMinBytes: 1024 * 1024,
        }),
      { statementTimeoutMs: 15_000, lockTimeoutMs: 2_000 },
    );
    const rank = (s: string) => severityValues.indexOf(s as (typeof severityValues)[number]);
    const floor = args.min_severity ? rank(args.min_severity) : severityValues.length;
    const kept = findings
      .filter((f) => rank(f.severity) <= floor)
      .sort(
        (a, b) =>
          rank(a.severity) - rank(b.severity) ||
          a.check.localeCompare(b.check) ||
          a.object.localeCompare(b.object),
      );
    const counts: Record<string, number> = {};
    for (const f of kept) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    const page = pageOf(
      kept.map((f) => {
        const fix = fixFor(f, db);
        return fix ? { ...f, fix } : f;
      }),
      args,
    );
    return {
      env: db.env,
      database: db.database,
      metrics,
      counts,
      findings: page.items,
      total: page.total,
      next_cursor: page.next_cursor,
    };
  },
  render(out, args) {
    const head =
      `${out.env}/${out.database}: ${out.total} finding(s)` +
      (out.total
        ? ` (${Object.entries(out.counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')})`
        : '');
    return answerText({
      head: [head],
      rows: out.findings.map(
        (f) =>
          `- [${f.severity}] ${f.check} ${f.object}: ${f.summary}${
            f.fix
              ? `
  fix: ${f.fix}`
              : ''
          }`,
      ),
      tail: [pageLine('findings', { shown: out.findings.length, ...out }, { tool: 'db_health', args })],
    });
  },
});
