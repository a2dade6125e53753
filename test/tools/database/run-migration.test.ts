import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runMigration } from '../../../src/tools/database/run-migration.js';
import { connect, createTestDb, type TestDb } from './pg-fixture.js';
import { actionable } from '../../fixtures/plans.js';

let db: TestDb;
const args = { env: 'test', database: 'app' };

async function write(file: string, sql: string): Promise<void> {
  await mkdir(join(db.dir, 'migrations'), { recursive: true });
  await writeFile(join(db.dir, 'migrations', file), sql);
}

/** Tables, columns and ledger rows: what a migration could change. */
async function schema(): Promise<string> {
  const c = await connect(db.name);
  try {
    const r = await c.query(
      `select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' order by 1, 2`,
    );
    return JSON.stringify(r.rows);
  } finally {
    await c.end();
  }
}

beforeEach(async () => {
  db = await createTestDb();
});
afterEach(async () => db?.drop());

describe('run_migration', () => {
  it('plans with a rolled-back dry run (objects, locks, duration), then applies once and records the ledger', async () => {
    const c = await connect(db.name);
    await c.query('create table users (id int primary key, name text)');
    await c.end();
    await write(
      '001_add_email.sql',
      'alter table users add column email text;\ncreate index users_email on users (email);',
    );
    await write(
      '002_orders.sql',
      'create table orders (id int primary key, user_id int references users (id));',
    );
    const before = await schema();

    const plan = await runMigration.plan(args, db.ctx());
    expect(plan.refusal).toBeUndefined();
    expect(plan.summary).toMatch(/apply 2 migration/);
    expect(await schema()).toBe(before);
    const details = plan.details as {
      objects: Array<{ kind: string; name: string; change: string }>;
      locks: Array<{ relation: string; mode: string }>;
      files: Array<{ status: string; duration_ms: number }>;
      duration_ms: number;
    };
    expect(details.objects).toEqual(
      expect.arrayContaining([
        { kind: 'table', name: 'public.users', change: 'altered' },
        { kind: 'index', name: 'public.users_email', change: 'created' },
        { kind: 'table', name: 'public.orders', change: 'created' },
      ]),
    );
    expect(details.locks).toEqual(
      expect.arrayContaining([{ relation: 'public.users', mode: 'AccessExclusiveLock' }]),
    );
    expect(details.files.map((f) => f.status)).toEqual(['ok', 'ok']);
    expect(plan.preconditions.pending).toEqual([
      { version: '001', file: '001_add_email.sql', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { version: '002', file: '002_orders.sql', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);

    const out = await runMigration.execute(args, db.ctx(), actionable(plan));
    expect(out).toMatchObject({ status: 'executed', ok: true, not_run: [] });
    expect(out.applied.map((a) => a.file)).toEqual(['001_add_email.sql', '002_orders.sql']);
    expect(await schema()).toContain('"email"');
    const c2 = await connect(db.name);
    const ledger = (
      await c2.query(
        'select version, name, checksum, applied_by, duration_ms >= 0 as timed from day2_schema_migrations order by version',
      )
    ).rows;
    await c2.end();
    expect(ledger).toEqual([
      {
        version: '001',
        name: 'add_email',
        checksum: out.applied[0]!.checksum,
        applied_by: 'tester',
        timed: true,
      },
      {
        version: '002',
        name: 'orders',
        checksum: out.applied[1]!.checksum,
        applied_by: 'tester',
        timed: true,
      },
    ]);
    expect(db.progress.length).toBeGreaterThan(0);

    // Running again finds nothing to do and changes nothing.
    const again = await runMigration.plan(args, db.ctx());
    expect(again.summary).toMatch(/no pending migrations/);
    const noop = await runMigration.execute(args, db.ctx(), actionable(again));
    expect(noop.applied).toEqual([]);
  });

  it('a migration whose plan fails shows the error with file and position and leaves the schema untouched', async () => {
    await write('001_ok.sql', 'create table a (id int);');
    await write('002_bad.sql', 'create table b (id int);\nalter table a add column x intt;\n');
    await write('003_later.sql', 'create table c (id int);');
    const before = await schema();
    const plan = await runMigration.plan(args, db.ctx());
    expect(plan.refusal).toMatch(/002_bad\.sql line 2, column \d+: type "intt" does not exist/);
    const details = plan.details as {
      error: { file: string; line: number; sqlstate: string };
      files: Array<{ file: string; status: string }>;
    };
    expect(details.error).toMatchObject({ file: '002_bad.sql', line: 2, sqlstate: '42704' });
    expect(details.files.map((f) => f.status)).toEqual(['ok', 'failed', 'not_run']);
    expect(await schema()).toBe(before);
  });

  it('an applied file whose content changed is reported as drift and refused', async () => {
    await write('001_a.sql', 'create table a (id int);');
    const plan = await runMigration.plan(args, db.ctx());
    await runMigration.execute(args, db.ctx(), actionable(plan));
    await write('001_a.sql', 'create table a (id bigint);');
    await write('002_b.sql', 'create table b (id int);');
    const before = await schema();
    const drifted = await runMigration.plan(args, db.ctx());
    expect(drifted.refusal).toMatch(/drift: 001_a\.sql changed after being applied/);
    expect((drifted.details as { drift: Array<{ file: string }> }).drift[0]?.file).toBe('001_a.sql');
    expect(await schema()).toBe(before);
  });

  it('refuses to execute when a pending file was edited after the plan', async () => {
    await write('001_a.sql', 'create table a (id int);');
    const plan = await runMigration.plan(args, db.ctx());
    await write('001_a.sql', 'create table a (id int); drop table users_important;');
    await expect(runMigration.execute(args, db.ctx(), actionable(plan))).rejects.toThrow(
      /changed after it was planned/,
    );
    expect(await schema()).toBe('[]');
  });

  it('refuses files with transaction control, which would escape the rolled-back dry run', async () => {
    await write('001_a.sql', 'create table a (id int);\ncommit;\ncreate table b (id int);');
    const plan = await runMigration.plan(args, db.ctx());
    expect(plan.refusal).toMatch(/001_a\.sql line 2: transaction control \(COMMIT\)/);
    expect(await schema()).toBe('[]');
  });

  it('stops at a failing file on apply: earlier files stay applied, the failing one is rolled back', async () => {
    await write('001_a.sql', 'create table a (id int primary key);');
    await write('002_b.sql', 'create table b (id int);');
    await write('003_c.sql', 'create table c (id int);');
    const plan = await runMigration.plan(args, db.ctx());
    expect(plan.refusal).toBeUndefined();
    // Between plan and apply, someone creates the table 002 will collide with.
    const c = await connect(db.name);
    await c.query('create table b (other text)');
    await c.end();
    const out = await runMigration.execute(args, db.ctx(), actionable(plan));
    expect(out.ok).toBe(false);
    expect(out.failed).toMatchObject({ file: '002_b.sql', sqlstate: '42P07' });
    expect(out.applied.map((a) => a.file)).toEqual(['001_a.sql']);
    expect(out.not_run).toEqual(['003_c.sql']);
    expect(await schema()).toContain('"other"');
    expect(await schema()).not.toContain('"c"');
    expect(runMigration.render(out, args)).toContain('FAILED 002_b.sql');
  });
});
