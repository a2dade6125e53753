import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, loadOrCreateSigningKey } from '../../src/guards/audit-log.js';
import type { SigningKey } from '../../src/guards/audit-log.js';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import { Redactor, REDACTED } from '../../src/core/redact.js';
import { createLogger } from '../../src/core/log.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import type { AuditInput, AuditRecord, Store } from '../../src/store/store.js';
import { backends } from '../store/fixtures/backends.js';
import type { TestBackend } from '../store/fixtures/backends.js';

/** A real store that remembers the size of every batch it was asked to append, and whether durably. */
function recording(store: Store): Store & { batches: number[]; durable: boolean[] } {
  const batches: number[] = [];
  const durable: boolean[] = [];
  return Object.assign(Object.create(store) as Store, {
    batches,
    durable,
    appendAuditBatch(items: ReadonlyArray<{ input: AuditInput; ts?: string }>, opts?: { durable?: boolean }) {
      batches.push(items.length);
      durable.push(opts?.durable !== false);
      return store.appendAuditBatch!(items, opts);
    },
  });
}

describe.each(backends)('AuditLog on $name', (factory) => {
  let backend: TestBackend;
  let store: Store;
  let key: SigningKey;
  let redactor: Redactor;

  beforeEach(async () => {
    redactor = new Redactor();
    backend = await factory.create();
    store = await backend.open();
    key = loadOrCreateSigningKey(join(backend.dir, 'keys', 'audit-signing.pem'));
  });

  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  it('commits appends made together as one batch, in call order', async () => {
    const rec = recording(store);
    const log = await AuditLog.open(rec, { redactor });
    const calls = Array.from({ length: 40 }, (_, i) =>
      log.append({ event: 'tool_call', detail: { i } }, { durable: i === 39 }),
    );
    const records = await Promise.all(calls);
    expect(rec.batches).toEqual([40]);
    expect(records.map((r) => r?.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(records.map((r) => (JSON.parse(r!.record) as { detail: { i: number } }).detail.i)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
    await log.close();
  });

  it('lets a store skip the sync only for a batch made of reads alone', async () => {
    const rec = recording(store);
    const log = await AuditLog.open(rec, { redactor });
    await Promise.all([
      log.append({ event: 'resource.read' }, { relaxed: true }),
      log.append({ event: 'tool.call' }, { relaxed: true }),
    ]);
    // A write's outcome nobody waits for is still synced, even beside reads.
    await Promise.all([
      log.append({ event: 'tool.call' }, { relaxed: true }),
      log.append({ event: 'tool.outcome' }),
    ]);
    await log.append({ event: 'tool.plan' });
    // Asking for both means durable.
    await log.append({ event: 'tool.execute' }, { durable: true, relaxed: true });
    expect(rec.batches).toEqual([2, 2, 1, 1]);
    expect(rec.durable).toEqual([false, true, true, true]);
    await log.close();
  });

  it('resolves a durable append only after it and everything queued before it are committed', async () => {
    const log = await AuditLog.open(store, { redactor });
    for (let i = 0; i < 5; i++)
      void log.append({ event: 'resource_read', resource: 'day2://services', detail: { i } });
    const durable = await log.append({ event: 'tool_call', tool: 'scale_deployment' }, { durable: true });
    expect(durable?.seq).toBe(6);
    expect((await store.queryAudit({ limit: 10 })).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    // Appends made while a batch is committing go into the next batch.
    const first = log.append({ event: 'a' }, { durable: true });
    await new Promise((r) => setImmediate(r));
    const second = log.append({ event: 'b' }, { durable: true });
    expect([(await first)?.seq, (await second)?.seq]).toEqual([7, 8]);
    await log.close();
  });

  it('redacts arguments and details before anything is stored', async () => {
    redactor.registerSecret('s3cr3t-value-for-audit');
    const log = await AuditLog.open(store, { redactor });
    const r = (await log.append(
      {
        event: 'tool_call',
        tool: 'rotate_credential',
        args: { secret: 'payments/db', password: 'hunter2hunter2', note: 'uses s3cr3t-value-for-audit' },
        detail: { api_key: 'abc123456', kept: 'visible' },
      },
      { durable: true },
    )) as AuditRecord;
    const stored = (await store.queryAudit({ limit: 1 }))[0]!.record;
    expect(stored).toBe(r.record);
    expect(stored).not.toMatch(/hunter2|s3cr3t-value|abc123456/);
    expect(JSON.parse(stored)).toMatchObject({
      args: { secret: 'payments/db', password: REDACTED, note: `uses ${REDACTED}` },
      detail: { api_key: REDACTED, kept: 'visible' },
    });
    await log.close();
  });

  it('signs the first record, then every N records and on close, continuing the cadence after a restart', async () => {
    let log = await AuditLog.open(store, { redactor, signingKey: key, checkpointEvery: 10 });
    for (let i = 0; i < 25; i++) await log.append({ event: 'tool_call', detail: { i } }, { durable: true });
    expect((await store.checkpoints()).map((c) => c.seq)).toEqual([1, 11, 21]);
    await log.close();
    expect((await store.checkpoints()).map((c) => c.seq)).toEqual([1, 11, 21, 25]);
    await expect(log.append({ event: 'late' }, { durable: true })).rejects.toThrow(StoreUnavailableError);

    log = await AuditLog.open(store, { redactor, signingKey: key, checkpointEvery: 10 });
    for (let i = 0; i < 9; i++) await log.append({ event: 'tool_call' }, { durable: true });
    expect((await store.checkpoints()).map((c) => c.seq)).toEqual([1, 11, 21, 25]);
    await log.append({ event: 'tool_call' }, { durable: true });
    expect((await store.checkpoints()).map((c) => c.seq)).toEqual([1, 11, 21, 25, 35]);
    await log.close();
    const cps = await store.checkpoints();
    expect(cps.every((c) => c.key_id === key.keyId)).toBe(true);
    expect(await verifyAudit(store, key.publicKey)).toMatchObject({ ok: true, records: 35, checkpoints: 5 });
  });

  it('fails a durable append queued behind a failing batch with that batch, without another wait', async () => {
    // The first batch hangs (a locked store) until the test lets it fail.
    let fail!: (err: Error) => void;
    let calls = 0;
    const stuck = Object.assign(Object.create(store) as Store, {
      appendAuditBatch(
        items: ReadonlyArray<{ input: AuditInput; ts?: string }>,
        opts?: { durable?: boolean },
      ) {
        calls++;
        if (calls > 1) return store.appendAuditBatch!(items, opts);
        return new Promise<AuditRecord[]>((_, reject) => (fail = reject));
      },
    });
    const log = await AuditLog.open(stuck, { redactor });
    const read = log.append({ event: 'resource_read' }, { relaxed: true });
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    const write = log.append({ event: 'tool.execute', tool: 'scale_deployment' }, { durable: true });
    const locked = new StoreUnavailableError('the store is locked');
    fail(locked);
    await expect(write).rejects.toBe(locked);
    // Refused on the first failure: no second batch was tried for it.
    expect(calls).toBe(1);
    // The read's record is retried later and lands.
    await log.flush();
    expect(await read).toMatchObject({ seq: 1 });
    await log.close();
  });

  it('fails durable appends closed when the store cannot be written, and never rejects the others', async () => {
    await store.appendAudit({ event: 'tool_call' });
    const lines: string[] = [];
    const readOnly = await backend.openReadOnly();
    try {
      const log = await AuditLog.open(readOnly, {
        redactor,
        log: createLogger({ redactor, sink: (l) => lines.push(l) }),
      });
      const background = log.append({ event: 'resource_read' });
      const err = await log
        .append({ event: 'tool_call', tool: 'scale_deployment' }, { durable: true })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(log.lastError).toBeInstanceOf(StoreUnavailableError);
      await log.flush();
      expect(await background).toBeUndefined();
      expect(log.dropped).toBe(1);
      expect(lines.some((l) => l.includes('audit append failed'))).toBe(true);
      // Reading still works, and nothing was written.
      expect((await readOnly.queryAudit({ limit: 10 })).map((r) => r.seq)).toEqual([1]);
      await log.close();
    } finally {
      await readOnly.close();
    }
  });

  it('fails alone a record the store refuses, and writes the rest of its batch', async () => {
    // A real store that refuses any batch holding a record marked poison, as a store would refuse
    // a record it cannot take: the batch it arrives in must not fail with it.
    const refusing = Object.assign(Object.create(store) as Store, {
      appendAuditBatch(
        items: ReadonlyArray<{ input: AuditInput; ts?: string }>,
        opts?: { durable?: boolean },
      ) {
        if (items.some((i) => i.input.detail?.poison === true))
          return Promise.reject(new StoreUnavailableError('record refused'));
        return store.appendAuditBatch!(items, opts);
      },
    });
    const lines: string[] = [];
    const log = await AuditLog.open(refusing, {
      redactor,
      log: createLogger({ redactor, sink: (l) => lines.push(l) }),
    });
    const calls = Array.from({ length: 9 }, (_, i) =>
      log.append({ event: 'tool.call', detail: { i, poison: i === 3 } }, { durable: i % 2 === 1 }),
    );
    const settled = await Promise.allSettled(calls);
    expect(settled[3]).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) });
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
    const stored = (await store.queryAudit({ limit: 20 })).map(
      (r) => (JSON.parse(r.record) as { detail: { i: number } }).detail.i,
    );
    expect(stored.sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 7, 8]);
    expect(lines.some((l) => l.includes('audit record refused by the store'))).toBe(true);
    expect(await verifyAudit(store)).toMatchObject({ ok: true, records: 8 });
    await log.close();
  });

  it('records an event whose arguments cannot be canonicalised, without them', async () => {
    const log = await AuditLog.open(store, { redactor });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const big = 'x'.repeat(2 * 1024 * 1024);
    const [a, b] = await Promise.all([
      log.append({ event: 'tool.call', tool: 'cyclic', args: cyclic }, { durable: true }),
      log.append({ event: 'tool.call', tool: 'huge', args: { big } }, { durable: true }),
    ]);
    expect(JSON.parse(a!.record)).toMatchObject({ tool: 'cyclic' });
    expect(JSON.parse(b!.record)).toMatchObject({
      tool: 'huge',
      args: expect.stringMatching(/NOT RECORDED/),
    });
    expect(b!.record.length).toBeLessThan(1000);
    await log.close();
  });
});

describe('loadOrCreateSigningKey', () => {
  it('creates an Ed25519 key readable only by its owner, and reuses it', async () => {
    const backend = await backends[0]!.create();
    try {
      const path = join(backend.dir, 'new', 'audit-signing.pem');
      expect(existsSync(path)).toBe(false);
      const a = loadOrCreateSigningKey(path);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(a.privateKey.asymmetricKeyType).toBe('ed25519');
      expect(a.keyId).toMatch(/^[0-9a-f]{16}$/);
      expect(loadOrCreateSigningKey(path).keyId).toBe(a.keyId);
    } finally {
      await backend.cleanup();
    }
  });
});
