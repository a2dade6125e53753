import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { OwnedRuntime } from '../../src/server/build-runtime.js';
import { allTools } from '../../src/tools/index.js';
import { inMemoryClient, testRuntime } from '../fixtures/in-memory.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { makeTestTools } from '../fixtures/test-tools.js';

const BOUND_MS = 5000;

// Random JSON arguments and random tool names at every registered tool: the server answers each
// call within a bound with a well-formed result or a JSON-RPC error, and keeps serving.
describe('property: random input never crashes or hangs the server', () => {
  let t: TestEnv;
  let rt: OwnedRuntime;
  let client: Client;
  let names: string[];

  beforeAll(async () => {
    t = makeTestEnv();
    rt = await testRuntime(t, [...allTools, ...makeTestTools(t.backendFile)]);
    client = await inMemoryClient(rt);
    names = (await client.listTools()).tools.map((x) => x.name);
  });
  afterAll(async () => {
    await client?.close();
    await rt?.close();
    t?.cleanup();
  });

  const bounded = <T>(p: Promise<T>) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${BOUND_MS} ms`)), BOUND_MS),
      ),
    ]);

  it('answers random arguments to every tool', async () => {
    const args = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
      fc.record(
        {
          env: fc.oneof(fc.constant('prod'), fc.string()),
          target: fc.string(),
          value: fc.string(),
          steps: fc.integer(),
          step_ms: fc.constantFrom(0, 1),
          approval_id: fc.string(),
          limit: fc.integer(),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), args, async (name, a) => {
        const r = await bounded(client.callTool({ name, arguments: a }));
        const parsed = CallToolResultSchema.safeParse(r);
        expect(parsed.success).toBe(true);
        if (r.isError)
          expect((r.content as { type: string; text: string }[])[0]?.text.length).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });

  it('answers random tool names and non-object arguments with a protocol error or a result', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.constantFrom(...names)),
        fc.jsonValue({ maxDepth: 2 }),
        async (name, a) => {
          try {
            const r = await bounded(
              client.request({ method: 'tools/call', params: { name, arguments: a } }, CallToolResultSchema),
            );
            // Only a registered tool answers with a result (an error result when the arguments are wrong).
            expect(names).toContain(name);
            expect(r.content.length).toBeGreaterThan(0);
          } catch (err) {
            expect(err).toBeInstanceOf(McpError);
          }
        },
      ),
      { numRuns: 150 },
    );
    // Still serving after all of that.
    expect((await client.listTools()).tools.length).toBe(names.length);
  });
});
