import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultSigningKeyPath, isPostgresSpec, openStore } from '../../src/store/open-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { PG_URL } from './fixtures/backends.js';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('openStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'day2-open-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells PostgreSQL URLs from file paths', () => {
    expect(isPostgresSpec('postgres://u@127.0.0.1/db')).toBe(true);
    expect(isPostgresSpec('postgresql://u@127.0.0.1/db')).toBe(true);
    expect(isPostgresSpec('./postgres.db')).toBe(false);
    expect(isPostgresSpec(undefined)).toBe(false);
  });

  it('opens a SQLite file in WAL mode, creating its folder, with or without the sqlite: prefix', async () => {
    const path = join(dir, 'nested', 'state', 'day2.db');
    const store = await openStore(`sqlite:${path}`);
    expect(store.kind).toBe('sqlite');
    await store.appendAudit({ event: 'tool_call' });
    await store.close();
    expect(existsSync(`${path}-wal`) || existsSync(path)).toBe(true);
    const again = await openStore(path);
    expect((await again.auditHead())?.seq).toBe(1);
    await again.close();
  });

  it('defaults to ./.day2/day2.db with the signing key beside it', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const store = await openStore(undefined);
      await store.close();
      expect(existsSync(join(dir, '.day2', 'day2.db'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
    expect(defaultSigningKeyPath(undefined)).toBe(join('.day2', 'audit-signing.pem'));
    expect(defaultSigningKeyPath('/var/lib/day2/state.db')).toBe('/var/lib/day2/audit-signing.pem');
    expect(defaultSigningKeyPath('postgres://db/day2')).toBe(join('.day2', 'audit-signing.pem'));
  });

  it('reports a SQLite path that cannot be created as StoreUnavailableError', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a folder');
    await expect(openStore(join(file, 'day2.db'))).rejects.toThrow(StoreUnavailableError);
    const notDb = join(dir, 'not-a-db');
    writeFileSync(notDb, 'x'.repeat(4096));
    await expect(openStore(notDb)).rejects.toThrow(/not a SQLite database/);
  });

  it('opens PostgreSQL in the schema named by ?schema=, and refuses a server that is not there', async () => {
    const schema = `day2_open_${Date.now().toString(36)}`;
    const store = await openStore(`${PG_URL}?schema=${schema}`);
    try {
      expect(store.kind).toBe('postgres');
      await store.appendAudit({ event: 'tool_call' });
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      const rows = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".audit`)).rows;
      expect(rows[0]?.n).toBe('1');
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    } finally {
      await store.close();
    }

    const port = await closedPort();
    const err = await openStore(`postgres://postgres:hunter2secret@127.0.0.1:${port}/test`).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/test .*connection refused`));
    expect((err as Error).message).not.toContain('hunter2secret');
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(openStore(`${PG_URL}?schema=${encodeURIComponent('x"; DROP TABLE y; --')}`)).rejects.toThrow(
      RangeError,
    );
  });
});
