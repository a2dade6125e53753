import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';

describe('restarting a private PostgreSQL cluster', () => {
  let cluster: PostgresCluster;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const connect = async () => {
    const c = new pg.Client({ connectionString: cluster.adminUrl });
    await c.connect();
    return c;
  };

  it('ends open connections and serves the same data on the same port again', async () => {
    const before = await connect();
    await before.query('CREATE TABLE kept (v int)');
    await before.query('INSERT INTO kept VALUES (42)');
    // A client whose server went away reports it; every report after the first is ignored.
    const lost = new Promise<Error>((resolve) => before.on('error', resolve));
    const { port, pid } = cluster;

    await cluster.restart();

    expect((await lost).message).toMatch(/terminat|shutdown|Connection/i);
    await before.end().catch(() => undefined);
    expect(cluster.port).toBe(port);
    expect(cluster.pid).not.toBe(pid);
    const after = await connect();
    try {
      expect((await after.query<{ v: number }>('SELECT v FROM kept')).rows).toEqual([{ v: 42 }]);
    } finally {
      await after.end();
    }
  }, 60_000);
});
