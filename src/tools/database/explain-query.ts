import { z } from 'zod';
import { environmentConfig } from '../../config/lookup.js';
import { resolveDatabase } from './resolve-database.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { clip, databaseTargetFields, formatBytes, num, text } from './database-fields.js';
import { hypopgSchema, proposeIndexes, type FilteredScan } from './index-proposals.js';
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
    index_proposals: z
      .array(
        z.object({
          relation: z.string(),
          columns: z.array(z.string()),
          definition: z.string(),
          cost_with: z.number(),
          cost_without: z.number(),
          estimated_bytes: z.number(),
          plan: z.array(z.string()).describe('the top of the plan with this index'),
          create: z.string().describe('the governed call that builds it'),
        }),
      )
      .describe('hypothetical indexes (hypopg) the planner would use, cheapest plan first'),
    note: z.string().optional(),
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
    const plainSql = `EXPLAIN (FORMAT JSON) ${verdict.statement}\n`;
    const { rows, proposals, note } = await postgres.readOnly(
      db,
      async (c) => {
        // In the transaction and as the role that runs the EXPLAIN: the same search_path resolves the names.
        const unsafe = await checkCallsInCatalog(c, verdict.calls);
        if (unsafe) throw refused(unsafe);
        const rows = (await c.query<{ 'QUERY PLAN': unknown }>(explainSql)).rows;
        // Hypothetical indexes change only a plain EXPLAIN's plan, and only a filtered scan needs one.
        const scans = filteredScans(parsePlan(rows[0]?.['QUERY PLAN']).Plan);
        if (analyze || scans.length === 0) return { rows, proposals: [] };
        const schema = await hypopgSchema(c);
        if (!schema)
          return {
            rows,
            proposals: [],
            note: 'hypopg is not installed in this database, so no index was tried: install it (Debian: postgresql-15-hypopg) and CREATE EXTENSION hypopg to see the plan with proposed indexes',
          };
        const replan = async () => {
          const doc = parsePlan((await c.query<{ 'QUERY PLAN': unknown }>(plainSql)).rows[0]?.['QUERY PLAN']);
          return {
            cost: num(doc.Plan['Total Cost']),
            indexes: indexNames(doc.Plan),
            plan: planLines(doc.Plan),
          };
        };
        const before = await replan();
        return { rows, proposals: await proposeIndexes(c, schema, scans, before.cost, replan) };
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
      index_proposals: proposals.map((p) => ({
        relation: p.relation,
        columns: p.columns,
        definition: p.definition,
        cost_with: p.cost_with,
        cost_without: p.cost_without,
        estimated_bytes: p.estimated_bytes,
        plan: p.plan,
        create: `create_index ${JSON.stringify({ env: db.env, database: db.database, table: p.relation, columns: p.columns })}`,
      })),
      ...(note ? { note } : {}),
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
    const proposals = out.index_proposals.flatMap((p, i) => [
      `index proposal ${i + 1}: ${p.relation} (${p.columns.join(', ')}), ~${formatBytes(p.estimated_bytes)}: cost ${p.cost_without} → ${p.cost_with}`,
      ...p.plan.map((line) => `  ${line}`),
      `  create it: ${p.create}`,
    ]);
    const shown = Math.min(out.nodes.length, 15);
    const more =
      out.truncated || out.nodes.length > shown
        ? `… further plan nodes left out here (${shown} shown${out.truncated ? '; the structured plan is cut too' : `, ${out.nodes.length} in structuredContent`})`
        : '';
    return [
      head,
      ...lines,
      ...(more ? [more] : []),
      ...proposals,
      ...(out.note ? [`note: ${out.note}`] : []),
    ].join('\n');
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

/** The plan's sequential scans that filter rows: where an index could help. */
function filteredScans(plan: Record<string, unknown>): FilteredScan[] {
  const out: FilteredScan[] = [];
  const walk = (p: Record<string, unknown>) => {
    if (
      p['Node Type'] === 'Seq Scan' &&
      typeof p['Relation Name'] === 'string' &&
      typeof p.Schema === 'string' &&
      typeof p.Filter === 'string'
    )
      out.push({ schema: p.Schema, table: p['Relation Name'], filter: p.Filter });
    for (const child of (p.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk(plan);
  return out;
}

function indexNames(plan: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (p: Record<string, unknown>) => {
    if (typeof p['Index Name'] === 'string') out.push(p['Index Name']);
    for (const child of (p.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk(plan);
  return out;
}

/** The top of a plan, one line a node, at most four nodes. */
function planLines(plan: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (p: Record<string, unknown>, depth: number) => {
    if (out.length >= 4) return;
    const rel = typeof p['Relation Name'] === 'string' ? ` on ${p['Relation Name']}` : '';
    const ix = typeof p['Index Name'] === 'string' ? ` using ${p['Index Name']}` : '';
    out.push(
      `${'  '.repeat(depth)}${text(p['Node Type'])}${rel}${ix} (cost ${num(p['Total Cost'])}, rows ${num(p['Plan Rows'])})`,
    );
    for (const child of (p.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child, depth + 1);
  };
  walk(plan, 0);
  return out;
}
