import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresError } from '../../../src/providers/postgres/errors.js';
import { ToolError } from '../../../src/contract/define-tool.js';
import { explainQuery } from '../../../src/tools/database/explain-query.js';
import { ESCAPES } from './escape-attempts.js';
import { closedPort, connect, createTestDb, type TestDb } from './pg-fixture.js';

let db: TestDb;

/** Everything an escape could change: tables, row counts, sequences, large objects, settings. */
async function fingerprint(): Promise<string> {
  const c = await connect(db.name);
  try {
    const r = await c.query(`
      select (select string_agg(relname, ',' order by relname) from pg_class where relnamespace = 'public'::regnamespace) as rels,
             (select count(*) from x) as x_rows, (select count(*) from t) as t_rows, (select last_value from s) as seq,
             (select count(*) from pg_largeobject_metadata) as los`);
    return JSON.stringify(r.rows);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDb();
  const c = await connect(db.name);
  await c.query(`create table x (a int); insert into x values (1), (2);
    create table t (a int, b text); insert into t select g, 'v' || g from generate_series(1, 1000) g;
    create sequence s; create index t_a on t (a); analyze t;`);
  await c.end();
});
afterAll(async () => db?.drop());

describe('explain_query', () => {
  it('explains a SELECT without running it', async () => {
    const out = await explainQuery.run(
      { env: 'test', database: 'app', sql: 'select * from t where b = $$v7$$' },
      db.ctx(),
    );
    expect(out.analyzed).toBe(false);
    expect(out.seq_scans).toEqual(['public.t']);
    expect(out.nodes[0]).toMatchObject({ node_type: 'Seq Scan', relation: 'public.t' });
    expect(out.nodes[0]?.actual_rows).toBeUndefined();
    expect(explainQuery.render(out, { env: 'test', database: 'app', sql: 'select 1' })).toContain(
      'sequential scans on public.t',
    );
  });

  it('runs EXPLAIN ANALYZE for a single read query and reports actual rows', async () => {
    const out = await explainQuery.run(
      {
        env: 'test',
        database: 'app',
        sql: 'with r as (select a from t where a < 11) select count(*) from r;',
        analyze: true,
      },
      db.ctx(),
    );
    expect(out.analyzed).toBe(true);
    expect(out.execution_ms).toBeTypeOf('number');
    expect(out.nodes.some((n) => n.actual_rows === 10)).toBe(true);
  });

  it('refuses every escape attempt and leaves the database unchanged', async () => {
    const before = await fingerprint();
    for (const [name, sql] of Object.entries(ESCAPES)) {
      for (const analyze of [false, true]) {
        const err = await explainQuery.run({ env: 'test', database: 'app', sql, analyze }, db.ctx()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, `${name} was not refused`).toBeInstanceOf(ToolError);
        expect((err as ToolError).code, name).toBe('query_refused');
      }
    }
    expect(await fingerprint()).toBe(before);
  });

  it('keeps the READ ONLY transaction as a backstop behind the guard', async () => {
    const before = await fingerprint();
    const err = await db.provider
      .readOnly({ env: 'test', database: 'app' }, (c) => c.query('insert into x values (3)'), {
        statementTimeoutMs: 1000,
      })
      .catch((e: unknown) => e);
    expect((err as PostgresError).reason).toBe('read_only');
    expect(await fingerprint()).toBe(before);
  });

  it('reports a syntax error with its position, from the parser, before anything runs', async () => {
    const err = await explainQuery
      .run({ env: 'test', database: 'app', sql: 'select * fromm t' }, db.ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).code).toBe('query_refused');
    expect((err as ToolError).field).toBe('sql');
    expect((err as ToolError).message).toMatch(/syntax error at or near "fromm".*\(at position 10\)/);
  });

  it('stops a query at its statement timeout', async () => {
    const sql = 'select count(*) from generate_series(1, 100000000) a, generate_series(1, 1000) b';
    const err = await explainQuery
      .run({ env: 'test', database: 'app', sql, analyze: true, timeout_ms: 200 }, db.ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresError);
    expect((err as PostgresError).reason).toBe('statement_timeout');
  });

  it('names an unknown configured database clearly', async () => {
    const err = await explainQuery
      .run({ env: 'test', database: 'nope', sql: 'select 1' }, db.ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).message).toMatch(/no database "nope".*app/);
  });
});

describe('explain_query against missing or unreachable databases', () => {
  let other: TestDb;
  beforeAll(async () => {
    const port = await closedPort();
    other = await createTestDb({
      gone: { url: `postgres://postgres@127.0.0.1:5432/day2_t_does_not_exist` },
      down: { url: `postgres://postgres:s3cretpassw0rd@127.0.0.1:${port}/postgres` },
    });
  });
  afterAll(async () => other?.drop());

  it('a database that does not exist on the server', async () => {
    const err = await explainQuery
      .run({ env: 'test', database: 'gone', sql: 'select 1' }, other.ctx())
      .catch((e: unknown) => e);
    expect((err as PostgresError).reason).toBe('unknown_database');
  });

  it('a server that is down, without leaking the password', async () => {
    const err = await explainQuery
      .run({ env: 'test', database: 'down', sql: 'select 1' }, other.ctx())
      .catch((e: unknown) => e);
    expect((err as PostgresError).reason).toBe('unavailable');
    expect((err as Error).message).toContain('test/down');
    expect((err as Error).message).not.toContain('s3cretpassw0rd');
  });
});
