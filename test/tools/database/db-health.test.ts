import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbHealth } from '../../../src/tools/database/db-health.js';
import { reindex } from '../../../src/tools/database/reindex.js';
import { backendPid, connect, createTestDb, type TestDb } from './pg-fixture.js';
import { actionable } from '../../fixtures/plans.js';

let db: TestDb;
let idle: pg.Client;
let idlePid: number;

beforeAll(async () => {
  db = await createTestDb();
  const c = await connect(db.name);
  // A big table that is only ever filtered on an unindexed column: the missing index.
  await c.query(`create table orders (id bigserial primary key, customer_id int not null, total numeric not null);
    insert into orders (customer_id, total) select g % 5000, g from generate_series(1, 60000) g; analyze orders;`);
  for (let i = 0; i < 6; i++) await c.query('select * from orders where customer_id = $1', [i]);
  // Mass updates and deletes without vacuum: the bloated table.
  await c.query(`create table events (id int primary key, payload text) with (autovacuum_enabled = false);
    insert into events select g, repeat('x', 200) from generate_series(1, 30000) g; analyze events;
    update events set payload = repeat('y', 200); delete from events where id % 10 <> 0;`);
  // A unique index built CONCURRENTLY over duplicates fails and stays INVALID.
  await c.query(
    `create table accounts (email text); insert into accounts values ('a@example.com'), ('a@example.com');`,
  );
  await c
    .query('create unique index concurrently accounts_email_key on accounts (email)')
    .catch(() => undefined);
  // An expression index that fails part-way: INVALID too, but fixable by a reindex.
  await c.query(`create table ratios (x int); insert into ratios values (1), (5);`);
  await c.query('create index concurrently ratios_inv on ratios ((10 / (x - 5)))').catch(() => undefined);
  // Duplicate indexes, an unvalidated constraint, a sequence near its end.
  await c.query(`create index orders_total_a on orders (total); create index orders_total_b on orders (total);
    alter table accounts add constraint email_has_at check (email like '%@%') not valid;
    create sequence almost_done as integer maxvalue 1000; select setval('almost_done', 950);`);
  await c.query('select pg_stat_force_next_flush()');
  await c.end();
  // A session idle in its transaction.
  idle = await connect(db.name);
  idlePid = await backendPid(idle);
  await idle.query('begin');
  await idle.query('select count(*) from accounts');
});

afterAll(async () => {
  await idle?.end().catch(() => undefined);
  await db?.drop();
});

describe('db_health', () => {
  it('surfaces each seeded problem with its severity and evidence', async () => {
    const args = { env: 'test', database: 'app', limit: 100, idle_in_transaction_seconds: 1 };
    const out = await dbHealth.run(args, db.ctx());
    const by = (check: string, object: string) =>
      out.findings.find((f) => f.check === check && f.object === object);

    const missing = by('missing_index', 'public.orders');
    expect(missing?.severity).toBe('medium');
    expect(Number(missing?.evidence.seq_scan)).toBeGreaterThanOrEqual(6);
    const bloat = by('table_bloat', 'public.events');
    expect(bloat?.severity).toBe('high');
    expect(Number(bloat?.evidence.dead_tuples)).toBeGreaterThan(20_000);
    expect(by('vacuum', 'public.events')).toMatchObject({ severity: 'medium' });
    expect(by('invalid_index', 'public.accounts_email_key')).toMatchObject({
      severity: 'high',
      evidence: { unique: true },
    });
    expect(by('invalid_index', 'public.ratios_inv')).toBeDefined();
    expect(by('duplicate_index', 'public.orders')?.evidence.indexes).toBe('orders_total_a, orders_total_b');
    expect(by('unvalidated_constraint', 'public.accounts.email_has_at')).toMatchObject({ severity: 'low' });
    expect(by('sequence_exhaustion', 'public.almost_done')).toMatchObject({ severity: 'high' });
    expect(out.metrics.bloat_method).toBe('estimate');
    expect(out.metrics.tables).toBe(4);
    // Severity order: nothing after a lower severity is more severe.
    const order = ['critical', 'high', 'medium', 'low', 'info'];
    const ranks = out.findings.map((f) => order.indexOf(f.severity));
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(dbHealth.render(out, args)).toContain('invalid_index public.accounts_email_key');
  });

  it('reports a session idle in a transaction, and nothing about healthy tables', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const out = await dbHealth.run(
      { env: 'test', database: 'app', limit: 100, idle_in_transaction_seconds: 1 },
      db.ctx(),
    );
    const f = out.findings.find((x) => x.check === 'idle_in_transaction');
    expect(f?.evidence.pid).toBe(idlePid);
    expect(f?.evidence.last_query).toBe('select count(*) from accounts');
    expect(out.findings.some((x) => x.object === 'public.ratios' && x.check !== 'invalid_index')).toBe(false);
  });

  it('measures bloat with pgstattuple when the extension is installed', async () => {
    const c = await connect(db.name);
    await c.query('create extension if not exists pgstattuple');
    await c.end();
    const out = await dbHealth.run(
      { env: 'test', database: 'app', limit: 100, min_severity: 'high' },
      db.ctx(),
    );
    expect(out.metrics.bloat_method).toBe('pgstattuple');
    const bloat = out.findings.find((f) => f.check === 'table_bloat' && f.object === 'public.events');
    expect(bloat?.evidence.method).toBe('pgstattuple_approx');
    expect(out.findings.every((f) => f.severity === 'high' || f.severity === 'critical')).toBe(true);
  });

  it('pages with next_cursor', async () => {
    const first = await dbHealth.run({ env: 'test', database: 'app', limit: 2 }, db.ctx());
    expect(first.findings).toHaveLength(2);
    expect(first.next_cursor).toBeDefined();
    const second = await dbHealth.run(
      { env: 'test', database: 'app', limit: 2, cursor: first.next_cursor },
      db.ctx(),
    );
    expect(second.findings[0]).not.toEqual(first.findings[0]);
  });
});

describe('reindex', () => {
  it('plans with the index size and invalid flag, then rebuilds it concurrently', async () => {
    const c = await connect(db.name);
    await c.query('delete from ratios where x = 5');
    await c.end();
    const args = { env: 'test', database: 'app', index: 'public.ratios_inv' };
    const plan = await reindex.plan(args, db.ctx());
    expect(plan.details).toMatchObject({
      index: 'public.ratios_inv',
      invalid: true,
      statement: 'REINDEX INDEX CONCURRENTLY public.ratios_inv',
    });
    expect(plan.refusal).toBeUndefined();
    const out = await reindex.execute(args, db.ctx(), actionable(plan));
    expect(out).toMatchObject({ status: 'executed', valid_before: false, valid_after: true });
  });

  it('reports a failed rebuild (duplicates under a unique index) as a database error', async () => {
    const args = { env: 'test', database: 'app', index: 'accounts_email_key' };
    const plan = await reindex.plan(args, db.ctx());
    await expect(reindex.execute(args, db.ctx(), actionable(plan))).rejects.toThrow(
      /SQLSTATE 23505 \(unique_violation\)/,
    );
  });

  it('refuses an unknown index', async () => {
    await expect(reindex.plan({ env: 'test', database: 'app', index: 'nope' }, db.ctx())).rejects.toThrow(
      /no index "nope"/,
    );
  });
});
