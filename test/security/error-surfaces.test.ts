import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { OwnedRuntime } from '../../src/server/build-runtime.js';
import { createServer } from '../../src/server/create-server.js';
import { createLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import { defineTool, type AnyTool } from '../../src/contract/define-tool.js';
import { allTools } from '../../src/tools/index.js';
import { inMemoryClient, testRuntime } from '../fixtures/in-memory.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites, makeTestTools } from '../fixtures/test-tools.js';

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** A read whose backend fails with an error day2 does not know: an internal error. */
const brokenRead: AnyTool = defineTool({
  name: 'test_broken',
  title: 'Test broken read',
  description: 'Test only: fails with an unexpected error.',
  toolset: 'test',
  effect: 'read',
  risk: 'low',
  input: { what: z.string().describe('anything') },
  output: { ok: z.boolean() },
  run() {
    return Promise.reject(new Error('unexpected end of the frobnicator stream'));
  },
  render: () => 'ok',
});

// What a model and an operator see when something goes wrong must say what went wrong.
describe('error surfaces', () => {
  let t: TestEnv | undefined;
  let rt: OwnedRuntime | undefined;
  const lines: string[] = [];

  afterEach(async () => {
    await rt?.close().catch(() => undefined);
    t?.cleanup();
    rt = undefined;
    t = undefined;
    lines.length = 0;
  });

  const start = async (extra: Record<string, unknown> = {}) => {
    t = makeTestEnv(extra);
    const redactor = new Redactor();
    rt = await testRuntime(
      t,
      [...allTools, ...makeTestTools(t.backendFile), brokenRead],
      createLogger({ redactor, sink: (l) => lines.push(l) }),
      redactor,
    );
    return { t, rt };
  };

  it('logs the message and stack of an internal error, not {}', async () => {
    const { rt } = await start();
    const client = await inMemoryClient(rt);
    const r = (await client.callTool({ name: 'test_broken', arguments: { what: 'x' } })) as CallToolResult;
    expect(text(r)).toMatch(/internal error; the details are in the day2 log/);
    const line = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'tool failed');
    expect(line).toMatchObject({
      tool: 'test_broken',
      error: {
        name: 'Error',
        message: 'unexpected end of the frobnicator stream',
        stack: expect.stringContaining('error-surfaces.test.ts'),
      },
    });
    await client.close();
  });

  it('get_approval with the store down says the store failed, not that a write was refused', async () => {
    const { rt } = await start();
    const client = await inMemoryClient(rt);
    const plan = (await client.callTool({
      name: 'test_write',
      arguments: { env: 'staging', target: 'web', value: 'v' },
    })) as CallToolResult;
    const id = (plan.structuredContent as { approval_id: string }).approval_id;
    await rt.auditLog.flush();
    await rt.deps.store.close();

    const r = (await client.callTool({
      name: 'get_approval',
      arguments: { approval_id: id },
    })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).not.toMatch(/audit store cannot be written|never changes anything/);
    expect(text(r)).toMatch(/get_approval could not use day2's store: SQLite store .* is closed/);
    // The audit append that failed with it says why in the log.
    await rt.auditLog.flush();
    const failed = lines
      .map((l) => JSON.parse(l) as { msg: string; error?: { name?: string; message?: string } })
      .find((l) => l.msg === 'audit append failed');
    expect(failed?.error).toMatchObject({
      name: 'StoreUnavailableError',
      message: expect.stringMatching(/closed/),
    });
    await client.close();
  });

  it.each([
    ['empty content', { action: 'accept', content: {} }],
    ['no content', { action: 'accept' }],
    ['a confirm that is not a boolean', { action: 'accept', content: { confirm: 'yes' } }],
  ] as const)(
    'refuses an elicitation accepted with %s, clearly, and executes nothing',
    async (_what, answer) => {
      const { t, rt } = await start({
        policy: {
          version: 'elicit-1',
          rules: [
            {
              id: 'elicit-ok',
              match: { tool: 'test_write' },
              decision: 'require_approval',
              channels: ['cli', 'elicitation'],
            },
          ],
        },
      });
      const server = createServer(rt, { principal: { id: 'dev-user', transport: 'stdio' } });
      const [a, b] = InMemoryTransport.createLinkedPair();
      const client = new Client(
        { name: 'eliciting-client', version: '1.0.0' },
        { capabilities: { elicitation: {} } },
      );
      client.setRequestHandler(ElicitRequestSchema, () => answer as never);
      await Promise.all([server.connect(a), client.connect(b)]);

      const r = (await client.callTool({
        name: 'test_write',
        arguments: { env: 'staging', target: 'web', value: 'v' },
      })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(text(r)).not.toMatch(/internal error/);
      expect(text(r)).toMatch(/test_write was not approved: .*without confirm: true/);
      expect(backendWrites(t.backendFile)).toHaveLength(0);
      await rt.auditLog.flush();
      const denied = (await rt.deps.store.queryAudit({ event: 'approval.denied', limit: 5 })).map(
        (x) => JSON.parse(x.record) as { approval?: { answer?: string } },
      );
      expect(denied).toContainEqual(
        expect.objectContaining({ approval: { channel: 'elicitation', answer: 'unconfirmed' } }),
      );
      await client.close();
    },
  );
});
