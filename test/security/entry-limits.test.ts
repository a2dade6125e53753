import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, GetPromptResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { OwnedRuntime } from '../../src/server/build-runtime.js';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import { allTools } from '../../src/tools/index.js';
import { inMemoryClient, testRuntime } from '../fixtures/in-memory.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';

/** `[[[… levels …"x" …]]]` */
function nested(levels: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const big = 'x'.repeat(300 * 1024);

// Tool arguments were limited, but every other request that carries model input was not: a
// 300 KB prompt argument came back inside the prompt, a 300 KB resource URI was matched against
// every template and written whole into the audit log, and a 5,000-deep argument reached the
// SDK's schema, answered as an internal error that named no limit.
describe('input limits on prompts, completions and resources', () => {
  let t: TestEnv;
  let rt: OwnedRuntime;
  let attacker: Client;

  beforeAll(async () => {
    t = makeTestEnv();
    rt = await testRuntime(t, allTools);
    attacker = await inMemoryClient(rt, { principal: { id: 'agent-evil', transport: 'stdio' } });
  });
  afterAll(async () => {
    await attacker?.close();
    await rt?.close();
    t?.cleanup();
  });

  /** The error a request is answered with; fails the test when it is answered normally. */
  const refusal = async (request: Promise<unknown>): Promise<McpError> => {
    const outcome = await request.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    if (!('error' in outcome)) throw new Error(`answered: ${JSON.stringify(outcome.result).slice(0, 200)}`);
    expect(outcome.error).toBeInstanceOf(McpError);
    return outcome.error as McpError;
  };

  const expectLimit = (err: McpError, method: string, limit: RegExp) => {
    expect(err.code).toBe(ErrorCode.InvalidParams);
    expect(err.message).toContain(`${method}: `);
    expect(err.message).toMatch(limit);
    // The model's input is not echoed back.
    expect(err.message.length).toBeLessThan(500);
  };

  const stillAnswers = async () => {
    // A prompt that names no service: this runtime's catalog is empty, and an unknown service is refused.
    const p = await attacker.getPrompt({
      name: 'postmortem',
      arguments: { incident_id: 'inc_0123456789ab' },
    });
    expect(p.messages[0]?.content).toMatchObject({ type: 'text' });
    const c = await attacker.complete({
      ref: { type: 'ref/prompt', name: 'incident-triage' },
      argument: { name: 'env', value: 'pr' },
    });
    expect(c.completion.values).toBeInstanceOf(Array);
  };

  it('refuses a 300 KB or 5,000-deep prompt argument, naming the limit', async () => {
    const large = await refusal(
      attacker.getPrompt({ name: 'incident-triage', arguments: { service: big, env: 'prod' } }),
    );
    expectLimit(large, 'prompts/get', /params: larger than 256 KB of JSON.*\(max_bytes\)/);
    const deep = await refusal(
      attacker.request(
        {
          method: 'prompts/get',
          params: { name: 'incident-triage', arguments: { service: nested(5000), env: 'prod' } },
        },
        // A raw request: the typed client would not build it, but nothing stops a client sending it.
        GetPromptResultSchema,
      ),
    );
    expectLimit(deep, 'prompts/get', /arguments: nested more than 32 levels deep.*\(max_depth\)/);
    await stillAnswers();
  });

  it('refuses a 300 KB or 5,000-deep completion argument, naming the limit', async () => {
    const large = await refusal(
      attacker.complete({
        ref: { type: 'ref/prompt', name: 'incident-triage' },
        argument: { name: 'service', value: big },
      }),
    );
    expectLimit(large, 'completion/complete', /\(max_bytes\)/);
    const deep = await refusal(
      attacker.complete({
        ref: { type: 'ref/resource', uri: 'day2://services/{name}' },
        argument: { name: 'name', value: 'c' },
        context: { arguments: { name: nested(5000) as string } },
      }),
    );
    expectLimit(deep, 'completion/complete', /context: nested more than 32 levels deep.*\(max_depth\)/);
    await stillAnswers();
  });

  it('refuses a 300 KB resource URI before any template or store sees it, and audits the refusal', async () => {
    const err = await refusal(attacker.readResource({ uri: `day2://services/${big}` }));
    expectLimit(err, 'resources/read', /params: larger than 256 KB of JSON.*\(max_bytes\)/);
    const sub = await refusal(attacker.subscribeResource({ uri: `day2://services/${big}` }));
    expectLimit(sub, 'resources/subscribe', /\(max_bytes\)/);

    await rt.auditLog.flush();
    const rows = await rt.deps.store.queryAudit({ principal: 'agent-evil', limit: 1000 });
    const records = rows.map((r) => JSON.parse(r.record) as Record<string, unknown>);
    const refused = records.find((r) => r.event === 'resource.read');
    expect(refused).toMatchObject({
      outcome: { ok: false, error: 'input_limit' },
      detail: { limit: 'max_bytes', allowed: 256 * 1024 },
    });
    // The URI is recorded, cut short: the audit log is not the attacker's storage.
    expect(JSON.stringify(refused).length).toBeLessThan(2000);
    expect(await verifyAudit(rt.deps.store)).toMatchObject({ ok: true });
    await stillAnswers();
  });
});
