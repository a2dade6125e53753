import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import type { OwnedRuntime } from '../../../src/server/build-runtime.js';
import { approvalTools } from '../../../src/tools/approvals/index.js';
import { databaseTools } from '../../../src/tools/database/index.js';
import { admin, connect, startDatabaseSession, urlFor, type DatabaseSession } from './pg-fixture.js';

/**
 * "Why is the orders database slow?" through a real MCP client, on a fleet of nobody's demo: the
 * environment is `shop-live`, the database key `ledger`. The orders table was never analyzed (the
 * planner guesses a handful of rows where thousands are live); customers is filtered on an
 * unindexed column. describe_table shows the schema and the stale statistics, db_health flags
 * them with the fixing SQL, explain_query tries a hypothetical index (hypopg) and hands over the
 * governed create_index call, which builds it only once a human approved.
 */

const suffix = randomBytes(4).toString('hex');
const DB = `day2_diag_${suffix}`;
const BARE = `day2_diag_bare_${suffix}`;

let session: DatabaseSession;
let rt: OwnedRuntime;
let agent: Client;

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
async function call(name: string, args: Record<string, unknown>) {
  const r = (await agent.callTool({ name, arguments: { env: 'shop-live', ...args } })) as CallToolResult;
  return { r, text: textOf(r), sc: (r.structuredContent ?? {}) as Record<string, unknown> };
}
const indexes = async () => {
  const c = await connect(DB);
  try {
    return (
      await c.query<{ indexname: string }>(`select indexname from pg_indexes where tablename = 'customers'`)
    ).rows.map((r) => r.indexname);
  } finally {
    await c.end();
  }
};

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`create database ${DB}`);
    await c.query(`create database ${BARE}`);
  });
  const c = await connect(DB);
  try {
    await c.query(`create extension if not exists hypopg`);
    await c.query(`create table orders (id bigserial primary key, customer_id int not null, status text not null, total_cents int)
                     with (autovacuum_enabled = false)`);
    await c.query(
      `insert into orders (customer_id, status, total_cents) select g % 300, 'open', g from generate_series(1, 5000) g`,
    );
    await c.query(`create table customers (id int primary key, email text not null, region text)`);
    await c.query(
      `insert into customers select g, 'c' || g || '@example.test', 'r' || (g % 7) from generate_series(1, 20000) g`,
    );
    await c.query(`analyze customers`);
    await c.query(`select pg_stat_force_next_flush()`);
  } finally {
    await c.end();
  }
  const bare = await connect(BARE);
  await bare.query(
    `create table customers (id int primary key, email text not null); insert into customers select g, 'c' || g from generate_series(1, 5000) g; analyze customers`,
  );
  await bare.end();

  session = await startDatabaseSession({
    config: configSchema.parse({
      environments: {
        'shop-live': {
          tier: 'production',
          databases: { ledger: { url: urlFor(DB) }, archive: { url: urlFor(BARE) } },
        },
      },
    }),
    tools: [...databaseTools, ...approvalTools],
    agent: 'agent-diag',
  });
  rt = session.rt;
  agent = session.agent;
}, 60_000);

afterAll(async () => {
  await session?.close();
  await admin(async (c) => {
    await c.query(`drop database if exists ${DB} with (force)`);
    await c.query(`drop database if exists ${BARE} with (force)`);
  });
});

describe('database diagnosis', () => {
  it('describe_table shows columns, indexes and that the planner has no statistics for orders', async () => {
    const { r, text, sc } = await call('describe_table', { database: 'ledger', table: 'orders' });
    expect(r.isError ?? false, text).toBe(false);
    expect(sc).toMatchObject({ table: 'public.orders', statistics: 'missing' });
    expect((sc.columns as { name: string }[]).map((c) => c.name)).toEqual([
      'id',
      'customer_id',
      'status',
      'total_cents',
    ]);
    expect((sc.indexes as { name: string; primary: boolean }[])[0]).toMatchObject({
      name: 'orders_pkey',
      primary: true,
    });
    const rows = sc.rows as { planner_estimate: number; live: number; catalog_estimate: number | null };
    expect(rows.live).toBe(5000);
    expect(rows.catalog_estimate).toBeNull();
    expect(rows.planner_estimate).not.toBe(rows.live);
    expect((sc.maintenance as { autovacuum_enabled: boolean }).autovacuum_enabled).toBe(false);
    // The model reads the text: the stale statistics and the fix are in it.
    expect(text).toContain('never been analyzed');
    expect(text).toContain('ANALYZE public.orders');
    expect(text).toContain('customer_id integer not null');
  });

  it('an unknown table is an error naming the field and the closest tables', async () => {
    const { r, text } = await call('describe_table', { database: 'ledger', table: 'order' });
    expect(r.isError).toBe(true);
    expect(text).toMatch(/table: no table "order".*closest: .*orders/);
  });

  it('db_health flags the missing statistics with the fixing SQL, and says how to get query history', async () => {
    const { r, text, sc } = await call('db_health', { database: 'ledger', limit: 50 });
    expect(r.isError ?? false, text).toBe(false);
    const findings = sc.findings as { check: string; object: string; fix?: string }[];
    expect(
      findings.find((f) => f.check === 'stale_statistics' && f.object === 'public.orders'),
    ).toMatchObject({
      fix: 'ANALYZE public.orders;',
    });
    expect(text).toContain('fix: ANALYZE public.orders;');
    // This database has no pg_stat_statements extension, whatever the server preloads.
    expect(findings.find((f) => f.check === 'pg_stat_statements')?.fix).toMatch(
      /CREATE EXTENSION pg_stat_statements/,
    );
  });

  it('explain_query tries a hypothetical index and hands over the create_index call', async () => {
    const before = await indexes();
    const { r, text, sc } = await call('explain_query', {
      database: 'ledger',
      sql: `select id, region from customers where email = 'c77@example.test'`,
    });
    expect(r.isError ?? false, text).toBe(false);
    expect(sc.seq_scans).toEqual(['public.customers']);
    const [best] = sc.index_proposals as {
      columns: string[];
      cost_with: number;
      cost_without: number;
      create: string;
    }[];
    expect(best).toBeDefined();
    expect(best!.columns).toEqual(['email']);
    expect(best!.cost_with).toBeLessThan(best!.cost_without / 10);
    expect(best!.create).toBe(
      `create_index ${JSON.stringify({ env: 'shop-live', database: 'ledger', table: 'public.customers', columns: ['email'] })}`,
    );
    expect(text).toContain(best!.create);
    expect(text).toMatch(/Index Scan on customers using <\d+>btree_customers_email/);
    // Hypothetical: nothing was built.
    expect(await indexes()).toEqual(before);
  });

  it('without hypopg, explain_query says so and how to get it', async () => {
    const { text, sc } = await call('explain_query', {
      database: 'archive',
      sql: `select * from customers where email = 'c9'`,
    });
    expect(sc.index_proposals).toEqual([]);
    expect(text).toMatch(/note: hypopg is not installed.*postgresql-15-hypopg/);
  });

  it('create_index needs a human in production, builds CONCURRENTLY once approved, and refuses a duplicate', async () => {
    const args = { database: 'ledger', table: 'public.customers', columns: ['email'] };
    const bad = await call('create_index', { ...args, columns: ['emial'] });
    expect(bad.r.isError).toBe(true);
    expect(bad.text).toMatch(/columns\[0\]: public.customers has no column "emial"; closest: email/);

    const planned = await call('create_index', args);
    expect(planned.sc.status).toBe('approval_required');
    expect(planned.text).toContain(
      'CREATE INDEX CONCURRENTLY "customers_email_idx" ON "public"."customers" ("email")',
    );
    expect(planned.text).toContain('~20000 rows');
    // Refused until approved: the database saw no write.
    expect(await indexes()).toEqual(['customers_pkey']);

    await rt.approvals.approve(planned.sc.approval_id as string, 'dba-on-call', { channel: 'cli' });
    const done = await call('create_index', { ...args, approval_id: planned.sc.approval_id });
    expect(done.r.isError ?? false, done.text).toBe(false);
    expect(done.sc, done.text).toMatchObject({
      status: 'executed',
      result: { index: 'public.customers_email_idx' },
    });
    expect(done.text).toContain('way back: DROP INDEX CONCURRENTLY public.customers_email_idx');
    expect((await indexes()).sort()).toEqual(['customers_email_idx', 'customers_pkey']);

    const again = await call('create_index', args);
    expect(again.sc.status).toBe('refused');
    expect(again.text).toContain('customers_email_idx already indexes (email)');
  });
});
