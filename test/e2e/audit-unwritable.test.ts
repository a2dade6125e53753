import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type ServeHandle } from '../../src/cli/serve.js';
import { openStore } from '../../src/store/open-store.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites } from '../fixtures/test-tools.js';
import { serveHttp } from '../fixtures/serve-http.js';
import { issuedToken } from '../fixtures/approval-token.js';

const ADMIN_URL = process.env.DAY2_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Root ignores file permissions, so "the audit store cannot be written" is made real with a
// PostgreSQL role that loses its INSERT privilege on the audit table while day2 is running.
describe('audit store unwritable (PostgreSQL role without INSERT)', () => {
  const suffix = randomBytes(4).toString('hex');
  const schema = `day2_e2e_${suffix}`;
  const role = `day2_e2e_${suffix}`;
  let admin: pg.Client;
  let t: TestEnv;
  let h: ServeHandle;
  let client: Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    // The tables are created by the owner; day2 then runs as a role with table privileges only.
    await (await openStore(`${ADMIN_URL}?schema=${schema}`)).close();
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    const url = new URL(ADMIN_URL);
    url.username = role;
    url.searchParams.set('schema', schema);
    t = makeTestEnv({}, url.toString());
    h = await serveHttp(t, { DAY2_PRINCIPAL: 'agent-pg' });
    client = new Client({ name: 'pg-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(h.url!)));
  });
  afterAll(async () => {
    await client?.close();
    await h?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await admin?.query(`DROP ROLE IF EXISTS ${role}`);
    await admin?.end();
    t?.cleanup();
  });

  const call = async (name: string, args: Record<string, unknown>) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  it('refuses writes with a clear error while reads keep working', async () => {
    const before = await call('test_write', { env: 'prod', target: 'web', value: 'a' });
    expect((before.structuredContent as { status: string }).status).toBe('approval_required');
    const id = (before.structuredContent as { approval_id: string }).approval_id;
    const approved = await h.runtime.approvals.approve(id, 'alice', { channel: 'cli' });
    const token = await issuedToken(h.runtime.approvals, approved);

    await admin.query(`REVOKE INSERT ON ${schema}.audit FROM ${role}`);

    const withToken = await call('test_write', {
      env: 'prod',
      target: 'web',
      value: 'a',
      approval_token: token,
    });
    expect(withToken.isError).toBe(true);
    expect(withToken.content[0]).toMatchObject({
      type: 'text',
      text: expect.stringMatching(/audit store cannot be written, so test_write was refused/),
    });
    const fresh = await call('test_write', { env: 'staging', target: 'web', value: 'b' });
    expect(fresh.isError).toBe(true);
    expect(fresh.content[0]).toMatchObject({ text: expect.stringMatching(/audit store cannot be written/) });
    expect(backendWrites(t.backendFile)).toHaveLength(0);

    // The token was not spent: nothing is consumed that could not be recorded.
    expect((await h.runtime.approvals.get(id))?.status).toBe('approved');

    const read = await call('get_approval', { approval_id: id });
    expect(read.isError).toBeFalsy();
    expect(read.structuredContent).toMatchObject({ status: 'approved' });
    const search = await call('search_audit', { tool: 'test_write', limit: 5 });
    expect(search.isError).toBeFalsy();

    await admin.query(`GRANT INSERT ON ${schema}.audit TO ${role}`);
    const after = await call('test_write', {
      env: 'prod',
      target: 'web',
      value: 'a',
      approval_token: token,
    });
    expect((after.structuredContent as { status: string }).status).toBe('executed');
    expect(backendWrites(t.backendFile)).toHaveLength(1);
  });
});
