import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { buildRuntime, type OwnedRuntime } from '../../../src/server/build-runtime.js';
import { ManualClock } from '../../../src/core/clock.js';
import { configSchema } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/core/log.js';
import { Redactor } from '../../../src/core/redact.js';
import { reapExpiredGrants } from '../../../src/tools/access/reaper.js';
import { postgresOnly } from '../database/pg-fixture.js';
import { inMemoryClient } from '../../fixtures/in-memory.js';
import { PostgresProvider } from '../../../src/providers/postgres/postgres-provider.js';
import { accessTools } from '../../../src/tools/access/index.js';
import { approvalTools } from '../../../src/tools/approvals/index.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADMIN_URL = process.env.DAY2_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(4).toString('hex');
const DB = `day2_access_${suffix}`;
const USER = `day2_acc_user_${suffix}`;
const ROLE = `day2_acc_ro_${suffix}`;

let dir: string;
let rt: OwnedRuntime;
let provider: PostgresProvider;
let agent: Client;
const clock = new ManualClock(Date.now());

function url(db: string, user = 'postgres'): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${db}`;
  u.username = user;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>, db = 'postgres'): Promise<T> {
  const c = new pg.Client({ connectionString: url(db) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function roleState(): Promise<{ member: boolean; valid_until: string | null }> {
  return admin(async (c) => {
    const r = await c.query<{ member: boolean; valid_until: string | null }>(
      `select pg_has_role($1, $2, 'MEMBER') as member,
              to_char(rolvaliduntil at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as valid_until
         from pg_roles where rolname = $1`,
      [USER, ROLE],
    );
    return r.rows[0]!;
  });
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const sc = (r: CallToolResult) => r.structuredContent as Obj;
const call = async (name: string, args: Record<string, unknown>) =>
  (await agent.callTool({ name, arguments: args })) as CallToolResult;

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`create database ${DB}`);
    await c.query(
      `create role ${USER} login password 'sbx-not-a-real-password' valid until '2099-01-01 00:00:00+00'`,
    );
    await c.query(`create role ${ROLE} nologin`);
  });
  await admin(async (c) => {
    await c.query(`create table ledger(id int)`);
    await c.query(`grant select on ledger to ${ROLE}`);
  }, DB);
  dir = mkdtempSync(join(tmpdir(), 'day2-access-db-'));
  const config = configSchema.parse({
    environments: { prod: { tier: 'production', databases: { ledger: { url: url(DB) } } } },
  });
  provider = new PostgresProvider(config, { log: silentLogger, env: process.env });
  const backends = postgresOnly(provider);
  rt = await buildRuntime({
    loaded: { config, baseDir: dir, store: join(dir, 'day2.db') },
    log: silentLogger,
    redactor: new Redactor(),
    env: process.env,
    backends,
    clock,
    tools: [...accessTools, ...approvalTools],
  });
  agent = await inMemoryClient(rt, { principal: { id: 'agent-bot', transport: 'stdio' } });
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await rt?.close();
  await provider?.close();
  await admin(async (c) => {
    await c.query(`drop database if exists ${DB} with (force)`);
    await c.query(`drop role if exists ${USER}`);
    await c.query(`drop role if exists ${ROLE}`);
  });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a database grant on the real PostgreSQL', () => {
  const args = {
    principal: USER,
    env: 'prod',
    database: 'ledger',
    role: ROLE,
    duration: '4h',
    reason: 'reconcile the ledger for INC-88',
  };

  it('grants the role with VALID UNTIL after approval by someone other than the grantee, and the reaper revokes it at expiry', async () => {
    const first = await call('grant_access', args);
    expect(first.isError, text(first)).toBeFalsy();
    expect(sc(first).plan).toMatchObject({
      excluded_approvers: [USER],
      login_valid_until_now: '2099-01-01T00:00:00Z',
    });
    expect(sc(first).plan.valid_until_semantics).toMatch(/password/);
    expect(await roleState()).toMatchObject({ member: false });
    const id = sc(first).approval_id as string;
    await expect(rt.approvals.approve(id, USER, { channel: 'cli', reason: 'x' })).rejects.toMatchObject({
      code: 'excluded_approver',
    });
    await rt.approvals.approve(id, 'bob', { channel: 'cli', reason: 'ticket checked' });
    const token = sc(await call('get_approval', { approval_id: id })).approval_token as string;
    const done = await call('grant_access', { ...args, approval_token: token });
    expect(done.isError, text(done)).toBeFalsy();
    const out = sc(done).result as Obj;
    expect(out).toMatchObject({ kind: 'database', database: 'ledger', approved_by: ['bob'] });

    const granted = await roleState();
    expect(granted.member).toBe(true);
    expect(`${granted.valid_until}Z`).toBe((out.expires_at as string).replace(/\.\d{3}Z$/, 'Z'));

    // The grantee's session (trust auth on the test server) can read through the granted role.
    const session = new pg.Client({ connectionString: url(DB, USER) });
    session.on('error', () => undefined);
    await session.connect();
    expect((await session.query('select count(*)::int as n from ledger')).rows[0]).toEqual({ n: 0 });

    // access_review reads the memberships on the server and knows this one as day2's.
    const review = sc(await call('access_review', { env: 'prod' }));
    expect(review.database_members).toContainEqual({
      env: 'prod',
      database: 'ledger',
      role: ROLE,
      member: USER,
      made_by: 'day2',
    });
    expect((review.sources as Obj[]).find((x) => x.source === 'database roles')).toMatchObject({
      read: ['prod/ledger'],
    });

    clock.advance(4 * 3_600_000 + 60_000);
    const res = await reapExpiredGrants(rt.deps, rt.audit);
    expect(res.revoked).toEqual([expect.objectContaining({ id: out.grant_id, principal: USER })]);
    expect(await roleState()).toEqual({ member: false, valid_until: '2099-01-01T00:00:00' });
    await expect(session.query('select 1')).rejects.toThrow();
    await session.end().catch(() => undefined);

    await rt.auditLog.flush();
    const events = (await rt.deps.store.queryAudit({ limit: 500 })).map((r) => JSON.parse(r.record) as Obj);
    expect(
      events.find((e) => e.event === 'tool.outcome' && e.tool === 'grant_access')?.outcome,
    ).toMatchObject({ ok: true });
    expect(events.find((e) => e.event === 'access.revoked')).toMatchObject({
      detail: { grant_id: out.grant_id, reason: 'expired', sessions_ended: 1 },
    });
  });

  it('refuses a grant to a login that does not exist', async () => {
    const r = await call('grant_access', { ...args, principal: `nobody_${suffix}` });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('no PostgreSQL role named');
  });
});
