import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { PostgresError } from '../../src/providers/postgres/errors.js';
import { PostgresProvider, type DbRef } from '../../src/providers/postgres/postgres-provider.js';
import { resolveDatabase } from '../../src/tools/database/resolve-database.js';
import { ToolError } from '../../src/contract/define-tool.js';
import { admin, closedPort, connect, urlFor } from '../tools/database/pg-fixture.js';

const name = `day2_t_${randomBytes(5).toString('hex')}`;
const role = `${name}_ro`;
let provider: PostgresProvider;
const app: DbRef = { env: 'test', database: 'app' };

async function failure(p: Promise<unknown>): Promise<PostgresError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PostgresError);
  return e as PostgresError;
}

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    await c.query(`CREATE ROLE ${role} LOGIN`);
  });
  const c = await connect(name);
  await c.query(
    'create table secrets_table (id int); revoke all on secrets_table from public; create table locked (id int);',
  );
  await c.end();
  const port = await closedPort();
  const config = configSchema.parse({
    environments: {
      test: {
        tier: 'development',
        databases: {
          app: { url_env: 'APP_DB_URL' },
          unprivileged: { url: urlFor(name, role) },
          missing: { url: urlFor(`${name}_nope`) },
          down: { url: `postgres://postgres:pa55w0rd-secret@127.0.0.1:${port}/postgres` },
          unset: { url_env: 'NOT_SET_ANYWHERE' },
        },
      },
      prod: {
        tier: 'production',
        databases: { orders: { url: urlFor(name) }, payments: { url: urlFor(name) } },
      },
    },
  });
  provider = new PostgresProvider(config, { env: { APP_DB_URL: urlFor(name) }, connectTimeoutMs: 2000 });
});

afterAll(async () => {
  await provider?.close();
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS ${role}`);
  });
});

describe('PostgresProvider', () => {
  it('connects through the url_env variable and runs parameterized queries', async () => {
    const rows = await provider.query(app, 'select $1::int + 1 as n, current_database() as db', [41]);
    expect(rows).toEqual([{ n: 42, db: name }]);
    expect(provider.endpoint(app)).toEqual({ host: '127.0.0.1', port: 5432, dbname: name, user: 'postgres' });
  });

  it('maps 3D000 to unknown_database', async () => {
    const e = await failure(provider.query({ env: 'test', database: 'missing' }, 'select 1'));
    expect(e.reason).toBe('unknown_database');
    expect(e.detail.sqlstate).toBe('3D000');
  });

  it('maps a server that is down to unavailable, without the password', async () => {
    const e = await failure(provider.query({ env: 'test', database: 'down' }, 'select 1'));
    expect(e.reason).toBe('unavailable');
    expect(e.message).not.toContain('pa55w0rd-secret');
    expect(e).toMatchObject({ name: 'BackendError', backend: 'postgres', kind: 'unavailable' });
    expect(e.retryable).toBe(true);
  });

  it('maps a syntax error with its position', async () => {
    const e = await failure(provider.query(app, 'select 1 +* from'));
    expect(e.reason).toBe('syntax_error');
    expect(e.detail.position).toBeGreaterThan(0);
    expect(e.message).toMatch(/syntax error at position \d+/);
  });

  it('maps insufficient privilege', async () => {
    const e = await failure(
      provider.query({ env: 'test', database: 'unprivileged' }, 'select * from secrets_table'),
    );
    expect(e.reason).toBe('insufficient_privilege');
  });

  it('maps lock timeout and statement timeout', async () => {
    const holder = await connect(name);
    await holder.query('begin; lock table locked in access exclusive mode');
    try {
      const lock = await failure(
        provider.readOnly(app, (c) => c.query('select * from locked'), {
          statementTimeoutMs: 5000,
          lockTimeoutMs: 100,
        }),
      );
      expect(lock.reason).toBe('lock_timeout');
    } finally {
      await holder.end();
    }
    const slow = await failure(
      provider.readOnly(app, (c) => c.query('select pg_sleep(2)'), { statementTimeoutMs: 100 }),
    );
    expect(slow.reason).toBe('statement_timeout');
    // The pool is healthy afterwards.
    expect(await provider.query(app, 'select 1 as ok')).toEqual([{ ok: 1 }]);
  });

  it('says when the connection string variable is not set', async () => {
    const e = await failure(provider.query({ env: 'test', database: 'unset' }, 'select 1'));
    expect(e.message).toMatch(/NOT_SET_ANYWHERE is not set/);
  });
});

describe('resolveDatabase', () => {
  const deps = () => ({
    config: configSchema.parse({
      environments: {
        prod: { tier: 'production', databases: { orders: {}, payments: {} } },
        dev: { tier: 'development', databases: { only: {} } },
      },
    }),
  });

  it('takes an explicit database, a service named like a database, or the only database', () => {
    expect(resolveDatabase(deps(), { env: 'prod', database: 'orders' })).toMatchObject({
      env: 'prod',
      database: 'orders',
      target: { kind: 'database', name: 'orders' },
    });
    expect(resolveDatabase(deps(), { env: 'prod', service: 'payments' })).toMatchObject({
      database: 'payments',
      target: { service: 'payments' },
    });
    expect(resolveDatabase(deps(), { env: 'dev' })).toMatchObject({ database: 'only' });
  });

  it('refuses an unknown environment, an unknown database, and an ambiguous call', () => {
    expect(() => resolveDatabase(deps(), { env: 'qa', database: 'x' })).toThrow(ToolError);
    expect(() => resolveDatabase(deps(), { env: 'prod', database: 'x' })).toThrow(
      /no database "x".*orders, payments/,
    );
    expect(() => resolveDatabase(deps(), { env: 'prod' })).toThrow(/say which database/);
  });
});
