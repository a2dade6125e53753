import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnedRuntime } from '../../src/server/build-runtime.js';
import { configSchema } from '../../src/config/schema.js';
import { databaseTools } from '../../src/tools/database/index.js';
import { waitFor } from '../fixtures/wait-for.js';
import {
  admin,
  connect,
  startDatabaseSession,
  urlFor,
  type DatabaseSession,
} from '../tools/database/pg-fixture.js';

/**
 * explain_query takes SQL from the model. These attacks make PostgreSQL put data into an error
 * message (a row cast to int), read what only a superuser may, or call a VOLATILE function inside
 * the READ ONLY transaction. The model must get SQLSTATE, condition and position, nothing more;
 * the audit record keeps the server's text, redacted.
 */

const suffix = randomBytes(4).toString('hex');
const DB = `day2_leak_${suffix}`;
const ROLE = `day2_explain_${suffix}`;
const VICTIM = `day2_victim_${suffix}`;
const CARD = `card-canary-${suffix}`;

let session: DatabaseSession;
let rt: OwnedRuntime;
let agent: Client;
let dataDirectory: string;
let verifier: string;

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const explain = async (env: string, sql: string, analyze = false) =>
  (await agent.callTool({
    name: 'explain_query',
    arguments: { env, database: 'payments', sql, analyze },
  })) as CallToolResult;

/** Nothing of what the attacks read may reach the model, in any form. */
function expectNoLeak(r: CallToolResult): void {
  const all = text(r) + JSON.stringify(r.structuredContent ?? {});
  for (const secret of [CARD, dataDirectory, verifier, 'SCRAM-SHA-256$', 'invalid input syntax'])
    expect(all).not.toContain(secret);
  // A row as JSON, or a server message quoting a value.
  expect(text(r)).not.toMatch(/\{"|: "/);
}

beforeAll(async () => {
  await admin(async (c) => {
    await c.query(`create database ${DB}`);
    await c.query(`create role ${ROLE} nologin`);
    await c.query(`create role ${VICTIM} login password 'victim-password-${suffix}'`);
    dataDirectory = (await c.query<{ d: string }>(`select current_setting('data_directory') as d`)).rows[0]!
      .d;
    verifier = (
      await c.query<{ v: string }>(`select rolpassword as v from pg_authid where rolname = $1`, [VICTIM])
    ).rows[0]!.v;
  });
  const c = await connect(DB);
  try {
    await c.query(`create table payments (id int primary key, card text)`);
    await c.query(`insert into payments values (1, '${CARD}')`);
    await c.query(`create index payments_brin on payments using brin (id)`);
    await c.query(`insert into payments select g, 'x' from generate_series(2, 60000) g`);
    await c.query(`create sequence payment_ids`);
    // A STABLE function is evaluated while planning: EXPLAIN without ANALYZE runs it.
    await c.query(`create function first_card() returns text stable language sql
                     as $$ select card from payments order by id limit 1 $$`);
    await c.query(`create function touch_payments() returns int volatile language plpgsql
                     as $$ begin perform brin_summarize_new_values('payments_brin'); return 1; end $$`);
    await c.query(`grant select on payments to ${ROLE}`);
  } finally {
    await c.end();
  }
  const config = configSchema.parse({
    environments: {
      prod: { tier: 'production', databases: { payments: { url: urlFor(DB), explain_role: ROLE } } },
      // The worst case: a superuser login and no explain role. Only the error translation stands.
      staging: { tier: 'staging', databases: { payments: { url: urlFor(DB) } } },
    },
  });
  session = await startDatabaseSession({ config, tools: databaseTools, agent: 'agent-leak' });
  rt = session.rt;
  agent = session.agent;
}, 60_000);

afterAll(async () => {
  await session?.close();
  await admin(async (c) => {
    await c.query(`drop database if exists ${DB} with (force)`);
    await c.query(`drop role if exists ${ROLE}`);
    await c.query(`drop role if exists ${VICTIM}`);
  });
});

describe('explain_query errors carry SQLSTATE, condition and position only', () => {
  it('the row_to_json cast trick with analyze', async () => {
    const r = await explain(
      'staging',
      `SELECT (SELECT row_to_json(t)::text FROM payments t LIMIT 1)::int`,
      true,
    );
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('SQLSTATE 22P02 (invalid_text_representation)');
    expectNoLeak(r);
  });

  it('a value computed while planning, without analyze', async () => {
    const r = await explain('staging', `select * from payments where id = first_card()::int`);
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('SQLSTATE 22P02');
    expectNoLeak(r);
  });

  it.each([
    ['pg_authid', `select (select row_to_json(a)::text from pg_authid a where rolname = '${VICTIM}')::int`],
    ['pg_hba_file_rules', `select (select row_to_json(h)::text from pg_hba_file_rules h limit 1)::int`],
    ['data_directory', `select (select setting from pg_settings where name = 'data_directory')::int`],
    [
      'a value in a division by zero',
      `select (select 1 / (length(card) - length(card)) from payments limit 1)`,
    ],
  ])('server secrets through the cast trick: %s', async (_name, sql) => {
    const r = await explain('staging', sql, true);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/SQLSTATE [0-9A-Z]{5} \([a-z_]+\)/);
    expectNoLeak(r);
  });

  it('the audit record holds the server message, redacted', async () => {
    const sql = `select (select row_to_json(a)::text from pg_authid a where rolname = '${VICTIM}')::int`;
    const r = await explain('staging', sql, true);
    expect(r.isError).toBe(true);
    // A read's outcome joins the next group commit: wait for it.
    const last = await waitFor(async () => {
      const records = await rt.deps.store.queryAudit({ tool: 'explain_query', limit: 100, desc: true });
      return records
        .map((rec) => (JSON.parse(rec.record) as { detail?: { message?: string } }).detail?.message)
        .find((m) => m?.includes(VICTIM));
    }, 'the audit record of the refused explain');
    expect(last).toContain('22P02');
    expect(last).toContain('invalid input syntax for type integer');
    expect(last).toContain('[REDACTED]');
    expect(last).not.toContain(verifier);
    expect(last).not.toContain('SCRAM-SHA-256$');
  });
});

describe('explain_query runs as the least-privilege role', () => {
  it('cannot read pg_authid in prod, where explain_role is configured', async () => {
    const r = await explain('prod', `select rolpassword from pg_authid`);
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('SQLSTATE 42501 (insufficient_privilege)');
    expectNoLeak(r);
  });

  it('still explains what the role may read', async () => {
    const r = await explain('prod', `select * from payments where id = 1`);
    expect(r.isError, text(r)).toBeFalsy();
    expect(text(r)).toContain('payments');
  });
});

describe('explain_query refuses VOLATILE functions, found in pg_proc', () => {
  it.each([
    ['brin_summarize_new_values', `select brin_summarize_new_values('payments_brin'::regclass)`],
    ['qualified', `select pg_catalog.brin_summarize_new_values('payments_brin'::regclass)`],
    ['nextval', `select nextval('payment_ids')`],
    ['a user-defined VOLATILE function', `select touch_payments()`],
    ['in a subquery in FROM', `select * from (select touch_payments()) s`],
  ])('%s', async (_name, sql) => {
    // ANALYZE first: it is the call that would execute the function.
    for (const analyze of [true, false]) {
      const r = await explain('staging', sql, analyze);
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/VOLATILE in pg_proc/);
    }
  });

  it('a summarize did not happen', async () => {
    // Ranges past the first stay unsummarized: no call above reached the executor.
    const c = await connect(DB);
    const summarized = await c
      .query<{ n: number }>(`select brin_summarize_new_values('payments_brin') as n`)
      .finally(() => c.end());
    expect(summarized.rows[0]!.n).toBeGreaterThan(0);
  });
});

describe('explain_query refuses what is not one read-only query', () => {
  it('multi-statement input', async () => {
    const r = await explain(
      'staging',
      `select 1; select (select row_to_json(t)::text from payments t)::int`,
      true,
    );
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('only one statement');
    expectNoLeak(r);
  });

  it('analyze in a production tier', async () => {
    const r = await explain('prod', `select count(*) from payments`, true);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^analyze: .*production tier/);
  });
});
