import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';

/**
 * The sandbox's databases come with what the database tools use where a server has it: query
 * history (pg_stat_statements) and hypothetical indexes (hypopg). Through a real MCP client, on
 * the north fleet (environment `live`), whatever its database is called.
 */
describe('database tools on the sandbox', () => {
  let h: SandboxHarness;
  let agent: Client;
  let env: string;
  let database: string;

  beforeAll(async () => {
    h = await startSandboxHarness({
      fleet: fileURLToPath(new URL('../fixtures/fleets/north.yaml', import.meta.url)),
      postgres: true,
    });
    agent = await h.connect('agent-bot');
    env = Object.entries(h.sandbox.fleet.fleet.environments).find(([, e]) => e.tier === 'production')![0];
    database = Object.keys(h.rt.deps.config.environments[env]!.databases)[0]!;
  }, 120_000);
  afterAll(async () => h?.close());

  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await agent.callTool({ name, arguments: { env, database, ...args } })) as CallToolResult;
    const text = (r.content[0] as { text: string }).text;
    expect(r.isError ?? false, text).toBe(false);
    return { sc: r.structuredContent as Record<string, unknown>, text };
  };

  it('describe_table reads the seeded table; db_health has query history to offer', async () => {
    const tables = (await call('db_health', { limit: 100 })).sc.findings as { check: string }[];
    expect(tables.some((f) => f.check === 'pg_stat_statements')).toBe(false);
    const slow = await call('slow_queries', {});
    expect(slow.sc.source).toBe('pg_stat_statements');
    // Every sandbox database has its migrations ledger.
    const t = await call('describe_table', { table: 'schema_migrations' });
    expect(t.sc).toMatchObject({ table: 'public.schema_migrations' });
    expect((t.sc.columns as { name: string }[]).map((c) => c.name)).toEqual(['version', 'applied_at']);
  });

  it('explain_query can try hypothetical indexes there', async () => {
    const { sc, text } = await call('explain_query', {
      sql: 'select 1 from pg_class where relname = $$x$$ and relkind = $$r$$',
    });
    expect(sc.note, text).toBeUndefined();
  });
});
