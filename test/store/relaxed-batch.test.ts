import { afterEach, describe, expect, it } from 'vitest';
import { backends, type TestBackend } from './fixtures/backends.js';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';

describe.each(backends)('audit batches nobody waits on: $name', (factory) => {
  let backend: TestBackend;
  let store: Store;
  afterEach(async () => {
    await store?.close();
    await backend?.cleanup();
  });

  it('are written in chain order like durable ones, and the next durable batch follows them', async () => {
    backend = await factory.create();
    store = await backend.open();
    const relaxed = await store.appendAuditBatch!(
      [{ input: { event: 'resource.read' } }, { input: { event: 'tool.call' } }],
      {
        durable: false,
      },
    );
    const durable = await store.appendAuditBatch!([{ input: { event: 'tool.execute' } }], { durable: true });
    expect(relaxed.map((r) => r.seq)).toEqual([1, 2]);
    expect(durable[0]!.prev_hash).toBe(relaxed[1]!.hash);
    // A store reopened from disk sees all three, and the chain verifies.
    await store.close();
    store = await backend.open();
    const rows = await store.queryAudit({ limit: 10 });
    expect(rows.map((r) => JSON.parse(r.record).event)).toEqual([
      'resource.read',
      'tool.call',
      'tool.execute',
    ]);
    expect(await verifyAudit(store)).toMatchObject({ ok: true, records: 3 });
  });
});

describe('the SQLite connection behind the store worker', () => {
  it('syncs every commit again right after a relaxed batch', async () => {
    // A property of the connection, so checked on the class the worker hosts: approvals and tokens
    // go on syncing every commit.
    const store = SqliteStore.open(':memory:');
    try {
      await store.appendAuditBatch([{ input: { event: 'resource.read' } }], { durable: false });
      const db = (store as unknown as { db: { prepare(sql: string): { get(): unknown } } }).db;
      expect(db.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 });
    } finally {
      await store.close();
    }
  });
});
