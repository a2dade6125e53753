import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { accessReapCommand } from '../../../src/cli/access-reap.js';
import { GRANTS_COLLECTION, type AccessGrant } from '../../../src/tools/access/grant.js';
import { openStore } from '../../../src/store/open-store.js';

const ADMIN_URL = process.env.DAY2_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(4).toString('hex');
const DB = `day2_reap_${suffix}`;
const USER = `day2_reap_user_${suffix}`;
const ROLE = `day2_reap_role_${suffix}`;
let dir: string;

const url = (db: string) => Object.assign(new URL(ADMIN_URL), { pathname: `/${db}` }).toString();

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const isMember = () =>
  admin(
    async (c) =>
      (await c.query<{ m: boolean }>(`select pg_has_role($1, $2, 'MEMBER') as m`, [USER, ROLE])).rows[0]!.m,
  );

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`create database ${DB}`);
    await c.query(`create role ${USER} login`);
    await c.query(`create role ${ROLE} nologin`);
    await c.query(`grant ${ROLE} to ${USER}`);
    await c.query(`alter role ${USER} valid until '2020-01-01 00:00:00+00'`);
  });
  dir = mkdtempSync(join(tmpdir(), 'day2-reap-cli-'));
  writeFileSync(
    join(dir, 'day2.yaml'),
    `environments:\n  dev:\n    tier: development\n    databases:\n      app:\n        url: ${url(DB)}\n`,
  );
});

afterAll(async () => {
  await admin(async (c) => {
    await c.query(`drop database if exists ${DB} with (force)`);
    await c.query(`drop role if exists ${USER}`);
    await c.query(`drop role if exists ${ROLE}`);
  });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('day2 access reap', () => {
  it('revokes an expired database grant recorded in the store and audits it; a second run finds nothing', async () => {
    const storePath = join(dir, 'day2.db');
    const store = await openStore(storePath);
    const grant: AccessGrant = {
      id: 'g-cli0001',
      kind: 'database',
      principal: USER,
      env: 'dev',
      role: ROLE,
      database: 'app',
      previous_valid_until: null,
      reason: 'cron test',
      requested_by: 'agent-bot',
      approved_by: ['bob'],
      created_at: '2020-01-01T00:00:00.000Z',
      expires_at: '2020-01-01T01:00:00.000Z',
      status: 'active',
    };
    await store.putDoc(GRANTS_COLLECTION, grant.id, grant);
    await store.close();
    expect(await isMember()).toBe(true);

    const run = async () => {
      const stdout = new PassThrough();
      let text = '';
      stdout.on('data', (d: Buffer) => (text += d.toString()));
      const code = await accessReapCommand(
        {
          stdout,
          stderr: new PassThrough(),
          stdin: new PassThrough(),
          env: { DAY2_STORE: storePath, PATH: process.env.PATH },
          cwd: dir,
        },
        ['--config', join(dir, 'day2.yaml')],
      );
      return { code, text };
    };
    const first = await run();
    expect(first.code).toBe(0);
    expect(first.text).toContain(`revoked g-cli0001: ${USER} ${ROLE} on dev/app`);
    expect(await isMember()).toBe(false);
    // The login's VALID UNTIL goes back to what it was before the grant (none → infinity).
    const validUntil = await admin(
      async (c) =>
        (
          await c.query<{ v: string }>(`select rolvaliduntil::text as v from pg_roles where rolname = $1`, [
            USER,
          ])
        ).rows[0]!.v,
    );
    expect(validUntil).toBe('infinity');

    const second = await run();
    expect(second.text).toContain('0 expired grant(s) revoked');

    const reopened = await openStore(storePath);
    try {
      expect((await reopened.getDoc<AccessGrant>(GRANTS_COLLECTION, grant.id))!.value.status).toBe('revoked');
      const events = (await reopened.queryAudit({ event: 'access.revoked', limit: 10 })).map(
        (r) => JSON.parse(r.record) as { detail: Record<string, unknown> },
      );
      expect(events).toHaveLength(1);
      expect(events[0]!.detail).toMatchObject({ grant_id: 'g-cli0001', reason: 'expired', grantee: USER });
    } finally {
      await reopened.close();
    }
  });
});
