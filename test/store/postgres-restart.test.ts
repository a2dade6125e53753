import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';

describe('a PostgreSQL store across a server restart', () => {
  let cluster: PostgresCluster;
  let store: Store;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    store = await openStore(`${cluster.adminUrl}&schema=day2_restart`);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('fails the appends under way, keeps the process alive, and appends again once the server is back', async () => {
    // Transactions in flight on every pooled connection when the server goes: a connection that
    // dies between two of a transaction's queries must not take the process with it (vitest
    // reports an unhandled error as a failure).
    let stop = false;
    const outcomes = { ok: 0, failed: 0 };
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          await store.appendAudit({
            event: 'tool.call',
            principal: `w${w}`,
            tool: 'restart_probe',
            call: `${w}-${i}`,
          });
          outcomes.ok++;
        } catch {
          outcomes.failed++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    await cluster.restart();
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(writers);
    expect(outcomes.failed).toBeGreaterThan(0);
    const after = await store.appendAudit({ event: 'tool.call', principal: 'after', tool: 'restart_probe' });
    expect(after.seq).toBeGreaterThan(outcomes.ok);
  }, 60_000);
});
