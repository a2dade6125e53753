import type pg from 'pg';
import { num } from './database-fields.js';

/** A sequential scan the plan makes, with the filter that reads only part of the table. */
export interface FilteredScan {
  schema: string;
  table: string;
  filter: string;
}

/** An index explain_query proposes, and what the planner does with it (hypopg). */
export interface IndexProposal {
  /** schema.table */
  relation: string;
  columns: string[];
  definition: string;
  /** The plan's total cost with this hypothetical index, against the cost without. */
  cost_with: number;
  cost_without: number;
  /** Whether the planner chose the hypothetical index. */
  used: boolean;
  estimated_bytes: number;
  /** The plan's top nodes with the index, short. */
  plan: string[];
}

const MAX_PROPOSALS = 3;
const COMPARISON =
  /(?:^|[\s(])(?:"?[\w$]+"?\.)?"?([A-Za-z_][\w$]*)"?\s*(=|<>|!=|<=|>=|<|>|~~\*?|IS NULL|IS NOT NULL)/g;

/** The columns a filter compares, equality first; names only, to be checked against the table. */
export function filterColumns(filter: string): { equality: string[]; range: string[] } {
  const equality: string[] = [];
  const range: string[] = [];
  for (const m of filter.matchAll(COMPARISON)) {
    const col = m[1]!.toLowerCase();
    const op = m[2]!;
    if (['and', 'or', 'not', 'true', 'false', 'null'].includes(col)) continue;
    const list = op === '=' || op.startsWith('IS') ? equality : range;
    if (!equality.includes(col) && !range.includes(col)) list.push(col);
  }
  return { equality, range };
}

/** Whether the database has hypopg, and the schema its functions live in. */
export async function hypopgSchema(c: pg.ClientBase): Promise<string | undefined> {
  const r = await c.query<{ schema: string }>(
    `select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'hypopg'`,
  );
  return r.rows[0]?.schema;
}

/**
 * Candidate indexes for the filtered sequential scans of a plan, each tried as a hypothetical
 * index (hypopg: nothing is built, nothing is written; the index lives in this session only and is
 * reset before returning). `explain` re-plans the query; returns proposals best first.
 */
export async function proposeIndexes(
  c: pg.ClientBase,
  schema: string,
  scans: FilteredScan[],
  costWithout: number,
  explain: () => Promise<{ cost: number; indexes: string[]; plan: string[] }>,
): Promise<IndexProposal[]> {
  const fn = (name: string) => `${c.escapeIdentifier(schema)}.${name}`;
  const candidates: { relation: string; quoted: string; columns: string[] }[] = [];
  for (const scan of scans) {
    const quoted = `${c.escapeIdentifier(scan.schema)}.${c.escapeIdentifier(scan.table)}`;
    const relation = `${scan.schema}.${scan.table}`;
    const known = new Set(
      (
        await c.query<{ name: string }>(
          `select attname as name from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
          [quoted],
        )
      ).rows.map((r) => r.name.toLowerCase()),
    );
    const { equality, range } = filterColumns(scan.filter);
    const eq = equality.filter((x) => known.has(x)).slice(0, 3);
    const rg = range.filter((x) => known.has(x)).slice(0, 1);
    const combined = [...eq, ...rg];
    if (combined.length) candidates.push({ relation, quoted, columns: combined });
    // Each column alone as well, when the combined index has more than one.
    if (combined.length > 1)
      for (const col of combined) candidates.push({ relation, quoted, columns: [col] });
  }
  const seen = new Set<string>();
  const out: IndexProposal[] = [];
  try {
    for (const cand of candidates) {
      const key = `${cand.relation}(${cand.columns.join(',')})`;
      if (seen.has(key) || seen.size >= MAX_PROPOSALS * 2) continue;
      seen.add(key);
      const definition = `CREATE INDEX ON ${cand.quoted} (${cand.columns.map((x) => c.escapeIdentifier(x)).join(', ')})`;
      const made = await c.query<{ indexrelid: string; indexname: string }>(
        `select indexrelid::text, indexname from ${fn('hypopg_create_index')}($1)`,
        [definition],
      );
      const id = made.rows[0];
      if (!id) continue;
      const size = await c.query<{ bytes: string }>(
        `select ${fn('hypopg_relation_size')}($1::oid) as bytes`,
        [id.indexrelid],
      );
      const planned = await explain();
      out.push({
        relation: cand.relation,
        columns: cand.columns,
        definition,
        cost_with: planned.cost,
        cost_without: costWithout,
        used: planned.indexes.some((ix) => ix === id.indexname || ix.includes(`<${id.indexrelid}>`)),
        estimated_bytes: num(size.rows[0]?.bytes),
        plan: planned.plan,
      });
      await c.query(`select ${fn('hypopg_drop_index')}($1::oid)`, [id.indexrelid]);
    }
  } finally {
    await c.query(`select ${fn('hypopg_reset')}()`).catch(() => undefined);
  }
  return out
    .filter((p) => p.used && p.cost_with < p.cost_without)
    .sort((a, b) => a.cost_with - b.cost_with || a.columns.length - b.columns.length)
    .slice(0, MAX_PROPOSALS);
}
