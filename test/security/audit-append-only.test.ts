import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { PG_URL, postgresBackend, type TestBackend } from '../store/fixtures/backends.js';

/**
 * On PostgreSQL the audit tables refuse UPDATE, DELETE and TRUNCATE: a trigger stops every role
 * whose triggers fire (the owner included), and day2's own role, set up as the README says, holds
 * only SELECT and INSERT on them and cannot drop the trigger.
 */
describe('PostgreSQL audit tables are append-only for day2', () => {
  let backend: TestBackend;
  let store: Store;
  let schema: string;
  const role = `day2_app_${randomBytes(5).toString('hex')}`;

  const as = async (user: string, sql: string) => {
    const c = new pg.Client({ connectionString: PG_URL.replace('postgres@', `${user}@`) });
    await c.connect();
    try {
      return await c.query(sql);
    } finally {
      await c.end();
    }
  };
  const tampering = (s: string) => [
    `UPDATE ${s}.audit SET record = '{}' WHERE seq = 1`,
    `DELETE FROM ${s}.audit WHERE seq = 2`,
    `TRUNCATE ${s}.audit`,
    `UPDATE ${s}.audit_checkpoints SET hash = 'x'`,
    `DELETE FROM ${s}.audit_checkpoints`,
    `TRUNCATE ${s}.audit_checkpoints`,
  ];

  beforeEach(async () => {
    backend = await postgresBackend.create();
    store = await backend.open();
    schema = `"${new URL(backend.spec).searchParams.get('schema')}"`;
    await store.appendAudit({ event: 'tool.call', tool: 'get_service' });
    await store.appendAudit({ event: 'tool.call', tool: 'list_alerts' });
    const head = (await store.auditHead())!;
    await store.addCheckpoint({ ...head, ts: new Date().toISOString(), key_id: 'k', signature: 's' });
  });

  afterEach(async () => {
    await store.close();
    await backend.cleanup();
    await as('postgres', `DROP ROLE IF EXISTS ${role}`);
  });

  it('refuses UPDATE, DELETE and TRUNCATE even to the tables owner', async () => {
    for (const sql of tampering(schema)) {
      await expect(as('postgres', sql), sql).rejects.toMatchObject({
        code: '42501',
        message: expect.stringMatching(/append-only: (UPDATE|DELETE|TRUNCATE) is refused/),
      });
    }
    expect(await verifyAudit(store)).toMatchObject({ ok: true, records: 2, checkpoints: 1 });
  });

  it("day2's own role appends and reads but can neither rewrite the tables nor drop the trigger", async () => {
    await as('postgres', `CREATE ROLE ${role} LOGIN`);
    // The grants the README gives for day2's runtime role; the tables stay owned by the admin.
    await as(
      'postgres',
      `GRANT USAGE ON SCHEMA ${schema} TO ${role};
       GRANT SELECT ON ${schema}.meta TO ${role};
       GRANT SELECT, INSERT ON ${schema}.audit, ${schema}.audit_checkpoints TO ${role};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.approvals, ${schema}.docs TO ${role};`,
    );
    const app = await openStore(backend.spec.replace('postgres@', `${role}@`));
    try {
      await app.appendAudit({ event: 'tool.call', tool: 'db_health' });
      expect((await app.auditHead())?.seq).toBe(3);
      for (const sql of tampering(schema))
        await expect(as(role, sql), sql).rejects.toMatchObject({ code: '42501' });
      await expect(as(role, `DROP TRIGGER audit_append_only ON ${schema}.audit`)).rejects.toMatchObject({
        code: '42501',
      });
      await expect(as(role, `ALTER TABLE ${schema}.audit DISABLE TRIGGER ALL`)).rejects.toMatchObject({
        code: '42501',
      });
      expect(await verifyAudit(app)).toMatchObject({ ok: true, records: 3 });
    } finally {
      await app.close();
    }
  });
});
