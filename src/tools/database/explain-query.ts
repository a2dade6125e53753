import { z } from 'zod';
import { environmentConfig } from '../../config/lookup.js';
import { resolveDatabase } from './resolve-database.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { clip, databaseTargetFields, num, text } from './database-fields.js';
import { checkCallsInCatalog, checkReadOnlyQuery } from './sql-guard.js';

const MAX_NODES = 60;

const nodeSchema = z.object({
  depth: z.number(),
  node_type: z.string(),
  relation: z.string().optional(),
  index: z.string().optional(),
  startup_cost: z.number(),
  total_cost: z.number(),
  plan_rows: z.number(),
  actual_rows: z.number().optional(),
  actual_total_ms: z.number().optional(),
  loops: z.number().optional(),
  filter: z.string().optional().describe('filter or index condition, truncated'),
  rows_removed_by_filter: z.number().optional(),
});

type PlanNode = z.infer<typeof nodeSchema>;

export const explainQuery = defineTool({
  name: 'explain_query',
  title: 'Explain a query',
  description:
    'EXPLAIN one read-only query as a least-privilege role; VOLATILE calls refused. analyze executes it: refused in production.',
  toolset: 'database',
  effect: 'read',
  risk: 'low',
  input: {
    ...databaseTargetFields,
    sql: z.string().min(1).max(100_000).describe('one SELECT, WITH, VALUES or TABLE query, no parameters'),
    analyze: z.boolean().optional().describe('run it for actual rows and timing'),
    timeout_ms: z.number().int().min(100).max(60_000).optional().meta({ default: 5000 }),
  },
  output: {
    env: z.string(),
    database: z.string(),
    analyzed: z.boolean(),
    total_cost: z.number(),
    plan_rows: z.number(),
    execution_ms: z.number().optional(),
    planning_ms: z.number().optional(),
    seq_scans: z.array(z.string()).describe('relations read by sequential scan'),
    nodes: z.array(nodeSchema).describe(`plan nodes depth-first, at most ${MAX_NODES}`),
    truncated: z.boolean(),
  },
  async run(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const analyze = args.analyze === true;
    if (analyze && environmentConfig(ctx.deps.config, db.env)?.tier === 'production') {
      throw new ToolError(
        `analyze: EXPLAIN ANALYZE executes the query, and ${db.env} is a production tier, so it is refused there; call explain_query without analyze, or analyze against a non-production copy`,
        'analyze_refused',
        'analyze',
      );
    }
    const verdict = await checkReadOnlyQuery(args.sql);
    if (!verdict.ok) throw refused(verdict.reason, verdict.position);
    const options = analyze ? 'FORMAT JSON, VERBOSE, ANALYZE, BUFFERS' : 'FORMAT JSON, VERBOSE';
    // The newline keeps a trailing line comment in the query from reaching past it.
    const explainSql = `EXPLAIN (${options}) ${verdict.statement}\n`;
    const timeout = args.timeout_ms ?? 5000;
    const postgres = ctx.deps.backends.postgres;
    const rows = await postgres.readOnly(
      db,
      async (c) => {
        // In the transaction and as the role that runs the EXPLAIN: the same search_path resolves the names.
        const unsafe = await checkCallsInCatalog(c, verdict.calls);
        if (unsafe) throw refused(unsafe);
        return (await c.query<{ 'QUERY PLAN': unknown }>(explainSql)).rows;
      },
      { statementTimeoutMs: timeout, lockTimeoutMs: Math.min(timeout, 2000), role: postgres.explainRole(db) },
    );
    const doc = parsePlan(rows[0]?.['QUERY PLAN']);
    const nodes: PlanNode[] = [];
    const seqScans = new Set<string>();
    let count = 0;
    const walk = (p: Record<string, unknown>, depth: number) => {
      count++;
      const relation =
        typeof p['Relation Name'] === 'string'
          ? `${(p.Schema as string | undefined) ?? ''}${p.Schema ? '.' : ''}${p['Relation Name']}`
          : undefined;
      if (p['Node Type'] === 'Seq Scan' && relation) seqScans.add(relation);
      if (nodes.length < MAX_NODES) {
        const cond = (p.Filter ??
          p['Index Cond'] ??
          p['Hash Cond'] ??
          p['Join Filter'] ??
          p['Recheck Cond']) as string | undefined;
        nodes.push({
          depth,
          node_type: text(p['Node Type']),
          relation,
          index: typeof p['Index Name'] === 'string' ? p['Index Name'] : undefined,
          startup_cost: num(p['Startup Cost']),
          total_cost: num(p['Total Cost']),
          plan_rows: num(p['Plan Rows']),
          actual_rows: analyze ? num(p['Actual Rows']) : undefined,
          actual_total_ms: analyze ? num(p['Actual Total Time']) : undefined,
          loops: analyze ? num(p['Actual Loops']) : undefined,
          filter: cond ? clip(cond, 200) : undefined,
          rows_removed_by_filter:
            p['Rows Removed by Filter'] === undefined ? undefined : num(p['Rows Removed by Filter']),
        });
      }
      for (const child of (p.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child, depth + 1);
    };
    walk(doc.Plan, 0);
    return {
      env: db.env,
      database: db.database,
      analyzed: analyze,
      total_cost: num(doc.Plan['Total Cost']),
      plan_rows: num(doc.Plan['Plan Rows']),
      execution_ms: doc['Execution Time'] === undefined ? undefined : num(doc['Execution Time']),
      planning_ms: doc['Planning Time'] === undefined ? undefined : num(doc['Planning Time']),
      seq_scans: [...seqScans],
      nodes,
      truncated: count > nodes.length,
    };
  },
  render(out) {
    const head = `${out.env}/${out.database}: cost ${out.total_cost}, ~${out.plan_rows} rows${out.execution_ms !== undefined ? `, ran in ${out.execution_ms} ms` : ''}${out.seq_scans.length ? `; sequential scans on ${out.seq_scans.join(', ')}` : ''}`;
    const lines = out.nodes
      .slice(0, 15)
      .map(
        (n) =>
          `${'  '.repeat(n.depth)}- ${n.node_type}${n.relation ? ` on ${n.relation}` : ''}${n.index ? ` using ${n.index}` : ''} (cost ${n.total_cost}, rows ${n.plan_rows}${n.actual_rows !== undefined ? `, actual ${n.actual_rows}` : ''})`,
      );
    return [head, ...lines, ...(out.nodes.length > 15 || out.truncated ? ['…'] : [])].join('\n');
  },
});

function refused(reason: string, position?: number): ToolError {
  return new ToolError(
    `sql: query refused: ${reason}${position !== undefined ? ` (at position ${position + 1})` : ''}`,
    'query_refused',
    'sql',
  );
}

interface ExplainDoc {
  Plan: Record<string, unknown>;
  'Planning Time'?: number;
  'Execution Time'?: number;
}

function parsePlan(raw: unknown): ExplainDoc {
  const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  const doc = Array.isArray(value) ? (value[0] as ExplainDoc | undefined) : undefined;
  if (!doc || typeof doc.Plan !== 'object')
    throw new ToolError('PostgreSQL returned no plan for this query', 'no_plan');
  return doc;
}
