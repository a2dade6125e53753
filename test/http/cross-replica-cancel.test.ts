import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { z } from 'zod';
import { type ServeHandle } from '../../src/cli/serve.js';
import type { Cancellation } from '../../src/store/cancel-bus.js';
import { PostgresCancelBus } from '../../src/store/postgres-cancel-bus.js';
import { defineTool, type AnyTool } from '../../src/contract/define-tool.js';
import { MCP_HEADERS, rawRequest, rpc } from '../fixtures/raw-http.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { PG_URL, postgresBackend, type TestBackend } from '../store/fixtures/backends.js';
import { waitFor } from '../fixtures/wait-for.js';
import { serveHttp } from '../fixtures/serve-http.js';

const TOKENS = { alice: 'alice-token-0123456789', bob: 'bob-token-0123456789' };

/** What the gate tools did, as `<replica>:<call>:<started|released|aborted>`, and how to release a call. */
class GateCalls {
  readonly events: string[] = [];
  readonly releases = new Map<string, () => void>();
  release(call: string): void {
    this.releases.get(call)?.();
  }
}

/**
 * A read that runs until the test releases it or its signal aborts, and records which, so that a
 * test knows on which replica a call ran and what stopped it without timing anything.
 */
function gateTool(replica: string, calls: GateCalls): AnyTool {
  return defineTool({
    name: 'test_gate',
    title: 'Test gate',
    description: 'Test only: waits until the test releases this call or the call is cancelled.',
    toolset: 'test',
    effect: 'read',
    risk: 'low',
    input: { call: z.string().max(20).describe('a name the test knows this call by') },
    output: { released: z.boolean() },
    async run(args, ctx) {
      const released = new Promise<void>((resolve) => calls.releases.set(args.call, resolve));
      const aborted = new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      calls.events.push(`${replica}:${args.call}:started`);
      await Promise.race([released, aborted]);
      if (ctx.signal.aborted) {
        calls.events.push(`${replica}:${args.call}:aborted`);
        ctx.signal.throwIfAborted();
      }
      calls.events.push(`${replica}:${args.call}:released`);
      return { released: true };
    },
    render: () => 'Released.',
  });
}

describe('a notifications/cancelled sent to another replica (PostgreSQL store)', () => {
  let backend: TestBackend;
  let t: TestEnv;
  let a: ServeHandle;
  let b: ServeHandle;
  const calls = new GateCalls();

  beforeAll(async () => {
    backend = await postgresBackend.create();
    t = makeTestEnv(
      {
        http: {
          tokens: [
            { principal: 'alice', token_env: 'DAY2_TEST_ALICE_TOKEN' },
            { principal: 'bob', token_env: 'DAY2_TEST_BOB_TOKEN' },
          ],
        },
      },
      backend.spec,
    );
    const replica = (name: string) =>
      serveHttp(t, { DAY2_TEST_ALICE_TOKEN: TOKENS.alice, DAY2_TEST_BOB_TOKEN: TOKENS.bob }, [
        gateTool(name, calls),
      ]);
    a = await replica('A');
    b = await replica('B');
  });
  afterAll(async () => {
    for (const call of calls.releases.keys()) calls.release(call);
    await a?.close();
    await b?.close();
    await backend?.cleanup();
    t?.cleanup();
  });

  /** POSTs a test_gate call to `to` as `who` (as an event stream) and waits until its handler runs. */
  async function startGate(to: ServeHandle, who: keyof typeof TOKENS, call: string, id: number) {
    const response = fetch(to.url!, {
      method: 'POST',
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${TOKENS[who]}` },
      body: rpc('tools/call', { name: 'test_gate', arguments: { call }, _meta: { progressToken: call } }, id),
    }).then((r) => r.text());
    await waitFor(() => calls.events.find((e) => e.endsWith(`:${call}:started`)), `${call} to start`);
    // Wrapped: an async function returning the promise itself would wait for the answer.
    return { answer: response };
  }

  function cancel(to: ServeHandle, who: keyof typeof TOKENS, requestId: number) {
    return rawRequest(to.url!, {
      method: 'POST',
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${TOKENS[who]}` },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } }),
    });
  }

  /** Records what reaches a replica's bus, after its HTTP server has handled it. */
  function hear(on: ServeHandle): Cancellation[] {
    const heard: Cancellation[] = [];
    on.runtime.cancelBus().subscribe((c) => heard.push(c));
    return heard;
  }

  it("aborts the call's handler on the replica running it and ends that call's POST", async () => {
    const { answer } = await startGate(a, 'alice', 'c1', 61);
    expect(calls.events).toContain('A:c1:started');
    try {
      expect((await cancel(b, 'alice', 61)).status).toBe(202);
      await waitFor(() => (calls.events.includes('A:c1:aborted') ? true : undefined), 'c1 to abort on A');
    } finally {
      calls.release('c1');
    }
    // The POST ends without an answer: a cancelled request gets none.
    expect(await answer).not.toContain('"result"');
    expect(calls.events).not.toContain('A:c1:released');
  });

  it("does not let one principal cancel another's call through another replica", async () => {
    const { answer } = await startGate(a, 'alice', 'c2', 62);
    const heardOnA = hear(a);
    expect((await cancel(b, 'bob', 62)).status).toBe(202);
    // A's HTTP server handled bob's cancellation before this later subscriber heard it.
    await waitFor(() => heardOnA.find((c) => c.principal === 'bob' && c.requestId === 62), 'A to hear bob');
    calls.release('c2');
    expect(await answer).toContain('"released":true');
    expect(calls.events).toContain('A:c2:released');
    expect(calls.events).not.toContain('A:c2:aborted');
  });

  it('delivers a cancellation for a call on the replica it reaches there, without telling the others', async () => {
    const { answer } = await startGate(a, 'alice', 'c3', 63);
    const heardOnB = hear(b);
    expect((await cancel(a, 'alice', 63)).status).toBe(202);
    await waitFor(() => (calls.events.includes('A:c3:aborted') ? true : undefined), 'c3 to abort on A');
    expect(await answer).not.toContain('"result"');
    // An id in flight nowhere is published; had 63 been published, B would have heard it first.
    expect((await cancel(a, 'alice', 9999)).status).toBe(202);
    await waitFor(() => heardOnB.find((c) => c.requestId === 9999), 'B to hear 9999');
    expect(heardOnB).toEqual([{ principal: 'alice', requestId: 9999 }]);
  });

  it('closing a replica closes its listening connection', async () => {
    const bus = a.runtime.cancelBus();
    expect(bus).toBeInstanceOf(PostgresCancelBus);
    const name = `day2 cancel listener ${(bus as PostgresCancelBus).replica}`;
    const listeners = async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        return (await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name]))
          .rowCount;
      } finally {
        await client.end();
      }
    };
    expect(await listeners()).toBe(1);
    await a.close();
    // The server process behind a closed connection takes a moment to leave pg_stat_activity.
    await waitFor(async () => ((await listeners()) === 0 ? true : undefined), "A's listener to go");
  });
});
