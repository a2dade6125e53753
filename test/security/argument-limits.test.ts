import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { OwnedRuntime } from '../../src/server/build-runtime.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { verifyAudit } from '../../src/guards/audit-verify.js';
import { Redactor, REDACTED, TRUNCATED } from '../../src/core/redact.js';
import { allTools } from '../../src/tools/index.js';
import { inMemoryClient, testRuntime } from '../fixtures/in-memory.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites, makeTestTools } from '../fixtures/test-tools.js';
import { issuedToken } from '../fixtures/approval-token.js';

/** `[[[… levels …"x" …]]]` */
function nested(levels: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

// A deeply nested, very wide or very large argument used to overflow the canonical-JSON stack in
// the audit log's group commit: every record in the batch failed with it, so another agent's write
// was refused as "audit store cannot be written" and the attacker's own call was never audited.
describe('argument limits', () => {
  let t: TestEnv;
  let rt: OwnedRuntime;
  let attacker: Client;
  let operator: Client;

  beforeAll(async () => {
    t = makeTestEnv();
    rt = await testRuntime(t, [...allTools, ...makeTestTools(t.backendFile)]);
    attacker = await inMemoryClient(rt, { principal: { id: 'agent-evil', transport: 'stdio' } });
    operator = await inMemoryClient(rt, { principal: { id: 'agent-ops', transport: 'stdio' } });
  });
  afterAll(async () => {
    await attacker?.close();
    await operator?.close();
    await rt?.close();
    t?.cleanup();
  });

  const records = async (principal: string) => {
    await rt.auditLog.flush();
    const rows = await rt.deps.store.queryAudit({ principal, limit: 1000 });
    return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>);
  };

  it("refuses a 5,000-deep list_alerts by name, audits it, and another principal's write goes through", async () => {
    const plan = (await operator.callTool({
      name: 'test_write',
      arguments: { env: 'staging', target: 'web', value: 'v1' },
    })) as CallToolResult;
    const id = (plan.structuredContent as { approval_id: string }).approval_id;
    await rt.approvals.approve(id, 'alice', { channel: 'cli' });
    const token = await issuedToken(rt.approvals, id);

    // Both in the same turn of the event loop: their audit records share one group commit.
    const [attack, write] = (await Promise.all([
      attacker.callTool({ name: 'list_alerts', arguments: { env: nested(5000) } }),
      operator.callTool({
        name: 'test_write',
        arguments: { env: 'staging', target: 'web', value: 'v1', approval_token: token },
      }),
    ])) as CallToolResult[];

    expect(attack!.isError).toBe(true);
    expect(text(attack!)).toMatch(/^Invalid input for list_alerts: env: nested more than 32 levels deep/);
    expect(text(attack!)).toMatch(/max_depth/);
    expect(write!.isError, text(write!)).toBeFalsy();
    expect(write!.structuredContent).toMatchObject({ status: 'executed' });
    expect(backendWrites(t.backendFile)).toHaveLength(1);

    const evil = await records('agent-evil');
    expect(evil).toContainEqual(
      expect.objectContaining({
        event: 'tool.refused',
        tool: 'list_alerts',
        outcome: expect.objectContaining({ ok: false, error: 'input_limit' }),
        detail: expect.objectContaining({ limit: 'max_depth', allowed: 32, field: 'env' }),
      }),
    );
    const ops = await records('agent-ops');
    expect(ops.map((r) => r.event)).toEqual(
      expect.arrayContaining(['tool.approval_required', 'tool.execute', 'tool.outcome']),
    );
    expect(ops.find((r) => r.event === 'tool.outcome')).toMatchObject({ outcome: { ok: true } });
    expect(await verifyAudit(rt.deps.store)).toMatchObject({ ok: true });
  });

  it('refuses an argument with more members than the limit, naming the field and the limit', async () => {
    const wide = Array.from({ length: 10_001 }, () => 0);
    const r = (await attacker.callTool({
      name: 'list_alerts',
      arguments: { service: wide },
    })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/service: 10001 members, more than 10000 in one array.*max_members/);
    const evil = await records('agent-evil');
    expect(evil).toContainEqual(
      expect.objectContaining({
        event: 'tool.refused',
        detail: expect.objectContaining({ limit: 'max_members', allowed: 10_000, field: 'service' }),
      }),
    );
  });

  it('refuses arguments larger than 256 KB before the schema sees them', async () => {
    const r = (await attacker.callTool({
      name: 'test_write',
      arguments: { env: 'staging', target: 'web', value: 'v'.repeat(300 * 1024) },
    })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/arguments: larger than 256 KB of JSON.*max_bytes/);
    const evil = await records('agent-evil');
    const refused = evil.find((x) => (x.detail as { limit?: string } | undefined)?.limit === 'max_bytes');
    expect(refused).toMatchObject({ tool: 'test_write', outcome: { ok: false, error: 'input_limit' } });
    // Nothing of the oversized value reached the audit record.
    expect(JSON.stringify(refused).length).toBeLessThan(2000);
    expect(await verifyAudit(rt.deps.store)).toMatchObject({ ok: true });
  });

  it('canonicalises and redacts deep values without a RangeError', () => {
    const deep = nested(100_000);
    expect(() => canonicalJson(deep)).not.toThrow();
    expect(canonicalJson(nested(3))).toBe('[[["x"]]]');
    const redactor = new Redactor();
    const copy = redactor.redact({ password: 'hunter2', deep });
    expect(copy.password).toBe(REDACTED);
    // Below the bound the copy is cut with a marker, never passed through unredacted.
    expect(canonicalJson(copy)).toContain(JSON.stringify(TRUNCATED));
    expect(() => JSON.stringify(copy)).not.toThrow();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => canonicalJson(redactor.redact(cyclic))).not.toThrow();
  });
});
