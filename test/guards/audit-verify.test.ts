import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, loadOrCreateSigningKey, signCheckpoint } from '../../src/guards/audit-log.js';
import type { SigningKey } from '../../src/guards/audit-log.js';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import { chainHash } from '../../src/core/canonical-json.js';
import type { Store } from '../../src/store/store.js';
import { backends } from '../store/fixtures/backends.js';
import type { TestBackend } from '../store/fixtures/backends.js';
import { Redactor } from '../../src/core/redact.js';

describe.each(backends)('verifyAudit: $name', (factory) => {
  let backend: TestBackend;
  let store: Store;
  let key: SigningKey;

  /** Twelve records, with signed checkpoints at 1 (the first), 6 and 11 (cadence) and 12 (close). */
  async function writeLog(): Promise<void> {
    const log = await AuditLog.open(store, { redactor: new Redactor(), signingKey: key, checkpointEvery: 5 });
    for (let i = 1; i <= 12; i++) {
      await log.append(
        { event: 'tool_call', tool: i % 2 ? 'get_service' : 'list_alerts', env: 'prod', detail: { i } },
        { durable: true },
      );
    }
    await log.close();
  }

  const sql = (text: (t: (name: string) => string) => string, params?: unknown[]) =>
    backend.sql(text, params);

  beforeEach(async () => {
    backend = await factory.create();
    store = await backend.open();
    key = loadOrCreateSigningKey(join(backend.dir, 'audit-signing.pem'));
  });

  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('passes on an empty log and on an intact one, checking every checkpoint signature', async () => {
    expect(await verifyAudit(store, key.publicKey)).toEqual({
      ok: true,
      records: 0,
      checkpoints: 0,
      signatures_verified: true,
    });
    await writeLog();
    const head = await store.auditHead();
    expect((await store.checkpoints()).map((c) => c.seq)).toEqual([1, 6, 11, 12]);
    expect(await verifyAudit(store, key.publicKey)).toEqual({
      ok: true,
      records: 12,
      checkpoints: 4,
      signatures_verified: true,
      head,
    });
    expect(await verifyAudit(store)).toMatchObject({
      ok: true,
      records: 12,
      checkpoints: 4,
      signatures_verified: false,
    });
  });

  it('names an edited record', async () => {
    await writeLog();
    await sql(
      (t) => `UPDATE ${t('audit')} SET record = replace(record, 'get_service', 'del_service') WHERE seq = 5`,
    );
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 5,
      reason: expect.stringMatching(/record 5 was edited/),
    });
  });

  it('gives the same verdicts through scanAudit for a store without the fast chain scan', async () => {
    await writeLog();
    const plain = Object.assign(Object.create(store) as Store, { scanChain: undefined });
    expect(await verifyAudit(plain, key.publicKey)).toMatchObject({ ok: true, records: 12, checkpoints: 4 });
    await sql(
      (t) => `UPDATE ${t('audit')} SET record = replace(record, 'list_alerts', 'list_alarms') WHERE seq = 8`,
    );
    expect(await verifyAudit(plain, key.publicKey, { batchSize: 5 })).toMatchObject({
      ok: false,
      first_bad_seq: 8,
    });
  });

  it('names a record whose text was truncated', async () => {
    await writeLog();
    // The event index parses every record, so the store refuses broken JSON: a tamperer drops it first.
    await sql((t) => `DROP INDEX IF EXISTS ${t('audit_event')}`);
    await sql((t) => `UPDATE ${t('audit')} SET record = substr(record, 1, length(record) - 9) WHERE seq = 6`);
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 6,
      reason: expect.stringMatching(/record 6 is truncated/),
    });
  });

  it('names a deleted record', async () => {
    await writeLog();
    await sql((t) => `DELETE FROM ${t('audit')} WHERE seq = 4`);
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 4,
      reason: expect.stringMatching(/record 4 is missing/),
    });
  });

  it('names the gap when a deleted record is hidden by renumbering the rest', async () => {
    await writeLog();
    await sql((t) => `DELETE FROM ${t('audit')} WHERE seq = 4`);
    await sql((t) => `UPDATE ${t('audit')} SET seq = -seq WHERE seq > 4`);
    await sql((t) => `UPDATE ${t('audit')} SET seq = -seq - 1 WHERE seq < 0`);
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 4,
      reason: expect.stringMatching(/does not link/),
    });
  });

  it('names the first of two reordered records', async () => {
    await writeLog();
    await sql((t) => `UPDATE ${t('audit')} SET seq = 0 WHERE seq = 7`);
    await sql((t) => `UPDATE ${t('audit')} SET seq = 7 WHERE seq = 8`);
    await sql((t) => `UPDATE ${t('audit')} SET seq = 8 WHERE seq = 0`);
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 7,
      reason: expect.stringMatching(/record 7 does not link/),
    });
  });

  it('names the first missing record when the tail is cut below a signed checkpoint', async () => {
    await writeLog();
    await sql((t) => `DELETE FROM ${t('audit')} WHERE seq > 8`);
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 9,
      reason: expect.stringMatching(/ends at seq 8 .* checkpoint at seq 11/),
    });
  });

  it('catches a chain rewritten with fresh hashes through its signed checkpoint', async () => {
    await writeLog();
    const rows = await store.queryAudit({ afterSeq: 6, limit: 100 });
    let prev = rows[0]!.prev_hash;
    for (const r of rows) {
      const record = r.seq === 7 ? r.record.replace('get_service', 'del_service') : r.record;
      const hash = chainHash(prev, record);
      await sql(
        (t) =>
          `UPDATE ${t('audit')} SET record = $1, prev_hash = $2, hash = $3 WHERE seq = $4`.replace(
            /\$\d/g,
            backend.name === 'sqlite' ? '?' : '$&',
          ),
        [record, prev, hash, r.seq],
      );
      prev = hash;
    }
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 7,
      reason: expect.stringMatching(/seq 11 differs from its signed checkpoint: records 7 to 11/),
    });
  });

  it('refuses a checkpoint with a forged signature or from an unknown key', async () => {
    await writeLog();
    const other = generateKeyPairSync('ed25519');
    expect(await verifyAudit(store, other.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 1,
      reason: expect.stringMatching(/unknown key/),
    });
    expect(await verifyAudit(store, [other.publicKey, key.publicKey])).toMatchObject({ ok: true });

    const head = (await store.auditHead())!;
    const forged = signCheckpoint(key, { seq: 20, hash: head.hash }, new Date().toISOString());
    await store.addCheckpoint({
      ...forged,
      signature: signCheckpoint(key, { seq: 21, hash: head.hash }, forged.ts).signature,
    });
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({
      ok: false,
      first_bad_seq: 20,
      reason: expect.stringMatching(/invalid signature/),
    });
  });
});
