import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockingQueries } from '../../../src/tools/database/blocking-queries.js';
import { cancelQuery } from '../../../src/tools/database/cancel-query.js';
import { slowQueries } from '../../../src/tools/database/slow-queries.js';
import { backendPid, connect, createTestDb, type TestDb } from './pg-fixture.js';
import { actionable } from '../../fixtures/plans.js';

let db: TestDb;
const clients: pg.Client[] = [];

async function session(): Promise<pg.Client> {
  const c = await connect(db.name);
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

async function waitFor<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  db = await createTestDb();
  const c = await session();
  await c.query(
    `create table jobs (id int primary key, state text); insert into jobs select g, 'new' from generate_series(1, 10) g;`,
  );
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await db?.drop();
});

describe('blocking_queries and cancel_query', () => {
  it('shows the lock chain from a waiting update to the transaction holding the row, and terminating the root frees it', async () => {
    const holder = await session();
    const waiter = await session();
    const holderPid = await backendPid(holder);
    const waiterPid = await backendPid(waiter);
    await holder.query('begin');
    await holder.query(`update jobs set state = 'held' where id = 1`);
    const blocked = waiter.query(`update jobs set state = 'waiting' where id = 1`);

    const out = await waitFor(async () => {
      const r = await blockingQueries.run({ env: 'test', database: 'app' }, db.ctx());
      return r.chains.length > 0 ? r : undefined;
    }, 'a lock wait');
    expect(out.chains[0]).toMatchObject({
      blocked: { pid: waiterPid, query: `update jobs set state = 'waiting' where id = 1` },
      blocked_by: [holderPid],
      root_blockers: [holderPid],
    });
    expect(out.chains[0]?.blocked.waiting_for).toMatch(/ShareLock on transactionid|on jobs/);
    expect(out.blockers[0]).toMatchObject({
      pid: holderPid,
      state: 'idle in transaction',
      query: `update jobs set state = 'held' where id = 1`,
    });
    expect(blockingQueries.render(out, { env: 'test', database: 'app' })).toContain(
      `blocked by ${holderPid}`,
    );

    const args = { env: 'test', database: 'app', pid: holderPid, force: true };
    const plan = await cancelQuery.plan(args, db.ctx());
    expect(plan.preconditions).toMatchObject({ pid: holderPid, action: 'terminate' });
    const done = await cancelQuery.execute(args, db.ctx(), actionable(plan));
    expect(done).toMatchObject({ status: 'executed', action: 'terminate', signalled: true });
    await blocked; // the waiter gets its lock once the holder is gone
    const after = await blockingQueries.run({ env: 'test', database: 'app' }, db.ctx());
    expect(after.chains).toEqual([]);
  });

  it('cancels a running pg_sleep in another session, which stays connected', async () => {
    const sleeper = await session();
    const pid = await backendPid(sleeper);
    const sleeping = sleeper.query('select pg_sleep(30)').then(
      () => 'finished',
      (e: Error & { code?: string }) => e.code,
    );
    const slow = await waitFor(async () => {
      const r = await slowQueries.run({ env: 'test', database: 'app' }, db.ctx());
      return r.queries.find((q) => q.query === 'select pg_sleep(30)') ? r : undefined;
    }, 'the sleeping query to show');
    expect(slow.source).toBe('pg_stat_activity');
    expect(slow.note).toMatch(/pg_stat_statements/);

    const args = { env: 'test', database: 'app', pid };
    const plan = await cancelQuery.plan(args, db.ctx());
    expect(plan.details).toMatchObject({ action: 'cancel', session: { query: 'select pg_sleep(30)' } });
    const out = await cancelQuery.execute(args, db.ctx(), actionable(plan));
    expect(out).toMatchObject({
      status: 'executed',
      action: 'cancel',
      signalled: true,
      query: 'select pg_sleep(30)',
    });
    expect(await sleeping).toBe('57014');
    expect((await sleeper.query('select 1 as ok')).rows[0]).toEqual({ ok: 1 });
  });

  it('refuses to plan a cancel for a pid that is not a session of this database', async () => {
    const plan = await cancelQuery.plan({ env: 'test', database: 'app', pid: 999_999 }, db.ctx());
    expect(plan.refusal).toMatch(/no session with pid 999999/);
  });

  it('refuses to execute when the pid now belongs to another session', async () => {
    const s = await session();
    const args = { env: 'test', database: 'app', pid: await backendPid(s) };
    const plan = actionable(await cancelQuery.plan(args, db.ctx()));
    const stale = {
      ...plan,
      preconditions: { ...plan.preconditions, backend_start: '2000-01-01 00:00:00+00' },
    };
    await expect(cancelQuery.execute(args, db.ctx(), stale)).rejects.toThrow(/ended or was replaced/);
    expect((await s.query('select 1 as ok')).rows[0]).toEqual({ ok: 1 });
  });
});

describe('slow_queries with pg_stat_statements', () => {
  it('ranks statements from pg_stat_statements when the server preloads it, else says why not', async () => {
    const c = await session();
    const [preload] = (
      await c.query<{ v: string }>(`select current_setting('shared_preload_libraries') as v`)
    ).rows;
    await c.query('create extension if not exists pg_stat_statements');
    for (let i = 0; i < 3; i++)
      await c.query('select count(*) from jobs j1, jobs j2, generate_series(1, 20000) g');
    const out = await slowQueries.run(
      { env: 'test', database: 'app', order_by: 'total_time', limit: 5 },
      db.ctx(),
    );
    if (preload?.v.includes('pg_stat_statements')) {
      expect(out.source).toBe('pg_stat_statements');
      const q = out.queries.find((x) => x.query.includes('generate_series'));
      expect(q?.calls).toBe(3);
      expect(q?.total_ms).toBeGreaterThan(0);
    } else {
      expect(out.source).toBe('pg_stat_activity');
      expect(out.note).toMatch(/shared_preload_libraries/);
    }
  });
});
