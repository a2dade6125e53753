/**
 * db_health on a database with 2,000 tables (target <= 2 s), describe_table on one of them
 * (target <= 100 ms), and explain_query's overhead over a
 * raw EXPLAIN on the same pooled connection (target <= 10 ms). Needs PostgreSQL at
 * DAY2_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 * Run: npm exec -- tsx bench/db-health.ts
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Catalog } from '../src/catalog/catalog.js';
import { ManualClock } from '../src/core/clock.js';
import { configSchema } from '../src/config/schema.js';
import type { Deps } from '../src/contract/deps.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import { PostgresProvider } from '../src/providers/postgres/postgres-provider.js';
import type { Store } from '../src/store/store.js';
import { postgresOnly } from '../test/tools/database/pg-fixture.js';
import type { ToolContext } from '../src/contract/define-tool.js';
import { dbHealth } from '../src/tools/database/db-health.js';
import { describeTable } from '../src/tools/database/describe-table.js';
import { explainQuery } from '../src/tools/database/explain-query.js';

const TABLES = 2000;
const adminUrl = process.env.DAY2_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `day2_t_bench_${randomBytes(4).toString('hex')}`;
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${name}`;

const out = (line: string) => process.stdout.write(line + '\n');

async function withAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

await withAdmin(`CREATE DATABASE ${name}`);
const config = configSchema.parse({
  environments: { bench: { tier: 'development', databases: { app: { url: dbUrl.toString() } } } },
});
const provider = new PostgresProvider(config, { env: process.env });
try {
  const seed = new pg.Client({ connectionString: dbUrl.toString() });
  await seed.connect();
  const t0 = performance.now();
  for (let i = 0; i < TABLES; i += 100) {
    const ddl: string[] = [];
    for (let k = i; k < Math.min(i + 100, TABLES); k++) {
      ddl.push(
        `create table t${k} (id bigserial primary key, a int, b text); create index t${k}_a on t${k} (a); insert into t${k} (a, b) select g, 'x' from generate_series(1, 10) g;`,
      );
    }
    await seed.query(ddl.join('\n'));
  }
  await seed.query('analyze');
  await seed.end();
  out(
    `seeded ${TABLES} tables (+${TABLES} indexes, ${TABLES} sequences) in ${Math.round(performance.now() - t0)} ms`,
  );

  const deps: Deps = {
    config,
    store: {} as Store,
    clock: new ManualClock(),
    log: silentLogger,
    redactor: new Redactor(),
    backends: postgresOnly(provider),
    catalog: Catalog.empty(),
  };
  const ctx: ToolContext = {
    deps,
    principal: { id: 'bench', transport: 'internal' },
    signal: new AbortController().signal,
    callId: 'bench',
    progress: async () => {},
  };

  const health: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const r = await dbHealth.run({ env: 'bench', database: 'app', limit: 100 }, ctx);
    health.push(performance.now() - s);
    if (i === 0) out(`db_health: ${r.metrics.tables} tables, ${r.total} findings`);
  }
  const h = median(health);
  out(
    `db_health on ${TABLES} tables: median ${h.toFixed(0)} ms over ${health.length} runs (target <= 2000 ms) ${h <= 2000 ? 'OK' : 'OVER TARGET'}`,
  );

  const described: number[] = [];
  for (let i = 0; i < 30; i++) {
    const s = performance.now();
    await describeTable.run({ env: 'bench', database: 'app', table: `t${(i * 67) % TABLES}` }, ctx);
    if (i >= 5) described.push(performance.now() - s);
  }
  const dt = median(described);
  out(
    `describe_table, one of ${TABLES} tables: median ${dt.toFixed(1)} ms over ${described.length} runs (target <= 100 ms) ${dt <= 100 ? 'OK' : 'OVER TARGET'}`,
  );

  const sql = 'select t1.id, t2.b from t1 join t2 on t2.a = t1.a where t1.a < 5';
  const ref = { env: 'bench', database: 'app' };
  const raw: number[] = [];
  const tool: number[] = [];
  for (let i = 0; i < 10; i++) await explainQuery.run({ ...ref, sql }, ctx); // warm up pool and plan cache
  for (let i = 0; i < 200; i++) {
    let s = performance.now();
    await provider.withClient(ref, (c) => c.query(`EXPLAIN (FORMAT JSON) ${sql}`));
    raw.push(performance.now() - s);
    s = performance.now();
    await explainQuery.run({ ...ref, sql }, ctx);
    tool.push(performance.now() - s);
  }
  const overhead = median(tool) - median(raw);
  out(
    `explain_query: median ${median(tool).toFixed(2)} ms vs raw EXPLAIN ${median(raw).toFixed(2)} ms: overhead ${overhead.toFixed(2)} ms (target <= 10 ms) ${overhead <= 10 ? 'OK' : 'OVER TARGET'}`,
  );
} finally {
  await provider.close();
  await withAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
