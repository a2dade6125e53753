import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase } from '../../../src/tools/database/backup-database.js';
import { restoreDatabase } from '../../../src/tools/database/restore-database.js';
import { admin, connect, createTestDb, type TestDb } from './pg-fixture.js';
import { actionable } from '../../fixtures/plans.js';

let db: TestDb;
const args = { env: 'test', database: 'app' };

beforeAll(async () => {
  db = await createTestDb();
  const c = await connect(db.name);
  await c.query(`create schema billing;
    create table customers (id int primary key, name text); insert into customers select g, 'c' || g from generate_series(1, 1234) g;
    create table billing.invoices (id bigserial primary key, customer_id int references customers (id), amount numeric);
    insert into billing.invoices (customer_id, amount) select (g % 1234) + 1, g from generate_series(1, 5000) g;
    create table empty_one (x int);`);
  await c.end();
});
afterAll(async () => db?.drop());

describe('backup_database and restore_database', () => {
  it('uses a pg_dump that matches the server major version', async () => {
    const client = execFileSync('pg_dump', ['--version']).toString();
    const server = await admin(
      async (c) =>
        (await c.query<{ v: string }>(`select current_setting('server_version_num') as v`)).rows[0]!.v,
    );
    expect(Number(/(\d+)\./.exec(client)?.[1])).toBeGreaterThanOrEqual(Math.floor(Number(server) / 10000));
  });

  it('backs up with pg_dump -Fc, verifies, restores into a scratch database with equal row counts', async () => {
    const plan = await backupDatabase.plan(args, db.ctx());
    expect(plan.refusal).toBeUndefined();
    expect(plan.details).toMatchObject({ format: 'custom (-Fc)', folder: join(db.dir, 'backups') });
    const backup = await backupDatabase.execute(args, db.ctx(), actionable(plan));
    expect(backup.status).toBe('executed');
    expect(backup.file).toMatch(new RegExp(`^${db.name}_test_\\d{8}T\\d{6}Z\\.dump$`));
    const bytes = await readFile(join(db.dir, 'backups', backup.file));
    expect(bytes.subarray(0, 5).toString()).toBe('PGDMP');
    expect(backup.bytes).toBe(bytes.length);
    expect(backup.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(backup.toc_entries).toBeGreaterThan(5);
    expect(db.progress.at(-1)?.message).toBe('backup written and verified');

    const rArgs = { ...args, file: backup.file };
    const rPlan = await restoreDatabase.plan(rArgs, db.ctx());
    expect(rPlan.refusal).toBeUndefined();
    expect(rPlan.risk).toBeUndefined();
    const target = (rPlan.details as { target_database: string }).target_database;
    expect(target).toMatch(new RegExp(`^${db.name}_restore_\\d{14}$`));
    expect((rPlan.details as { tables_in_archive: number }).tables_in_archive).toBe(3);
    // Planning again gives the same target, so the action digest is stable.
    expect((await restoreDatabase.plan(rArgs, db.ctx())).preconditions).toEqual(rPlan.preconditions);

    const restored = await restoreDatabase.execute(rArgs, db.ctx(), actionable(rPlan));
    expect(restored).toMatchObject({
      status: 'executed',
      target_database: target,
      created_database: true,
      verified: true,
      tables_compared: 3,
      mismatches: [],
    });
    const c = await connect(target);
    expect((await c.query('select count(*)::int as n from billing.invoices')).rows[0]).toEqual({ n: 5000 });
    await c.end();

    // Restoring over the now-existing target is refused unless asked for, and then critical.
    const again = await restoreDatabase.plan(rArgs, db.ctx());
    expect(again.refusal).toMatch(/already exists/);
    const over = await restoreDatabase.plan({ ...rArgs, replace_existing: true }, db.ctx());
    expect(over.refusal).toBeUndefined();
    expect(over.risk).toBe('critical');
    const c2 = await connect(target);
    await c2.query('delete from billing.invoices where customer_id > 1000');
    await c2.query('delete from customers where id > 1000');
    await c2.end();
    const replaced = await restoreDatabase.execute(
      { ...rArgs, replace_existing: true },
      db.ctx(),
      actionable(over),
    );
    expect(replaced).toMatchObject({ created_database: false, verified: true });
  });

  it('reports mismatched row counts when the source changed since the dump', async () => {
    const backup = await backupDatabase.execute(
      args,
      db.ctx(),
      actionable(await backupDatabase.plan(args, db.ctx())),
    );
    const c = await connect(db.name);
    await c.query(`insert into empty_one values (1), (2)`);
    await c.end();
    const rArgs = { ...args, file: backup.file, target_database: `${db.name}_restore_b` };
    const out = await restoreDatabase.execute(
      rArgs,
      db.ctx(),
      actionable(await restoreDatabase.plan(rArgs, db.ctx())),
    );
    expect(out.verified).toBe(false);
    expect(out.mismatches).toEqual([{ table: 'public.empty_one', source_rows: 2, restored_rows: 0 }]);
  });

  it('refuses backup files outside the backups folder and files changed after planning', async () => {
    await expect(restoreDatabase.plan({ ...args, file: '../../etc/passwd' }, db.ctx())).rejects.toThrow(
      /outside the configured backups folder|no backup file/,
    );
    await expect(restoreDatabase.plan({ ...args, file: '/etc/passwd' }, db.ctx())).rejects.toThrow(
      /outside the configured backups folder/,
    );
    const backup = await backupDatabase.execute(
      args,
      db.ctx(),
      actionable(await backupDatabase.plan(args, db.ctx())),
    );
    const rArgs = { ...args, file: backup.file, target_database: `${db.name}_restore_c` };
    const plan = await restoreDatabase.plan(rArgs, db.ctx());
    await writeFile(join(db.dir, 'backups', backup.file), 'tampered');
    await expect(restoreDatabase.execute(rArgs, db.ctx(), actionable(plan))).rejects.toThrow(
      /changed after it was planned/,
    );
    const exists = await admin(
      async (a) =>
        (await a.query('select 1 from pg_database where datname = $1', [rArgs.target_database])).rowCount,
    );
    expect(exists).toBe(0);
  });
});
