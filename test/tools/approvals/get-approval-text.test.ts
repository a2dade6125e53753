import { afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startHarness, type TestHarness } from '../../fixtures/in-memory-runtime.js';
import { MAX_APPROVAL_WAIT_MS } from '../../../src/guards/approval-wait.js';

// get_approval's text says what comes next in every state: for the requester and for anyone else
// who looks (a teammate's agent), without ever showing them the token.
const ARGS = { env: 'staging', target: 'cfg', value: 'v2' };
const text = (r: CallToolResult) => (r.content as { text: string }[])[0]?.text ?? '';

let h: TestHarness;
afterEach(async () => h?.close());

describe('get_approval says what comes next', () => {
  it('pending: how long one call waits; approved, to another principal: that the requester may redeem it', async () => {
    h = await startHarness();
    const agent = await h.connect('agent-bot');
    const other = await h.connect('other-bot');
    const asked = (await agent.callTool({ name: 'test_write', arguments: ARGS })) as CallToolResult;
    const id = (asked.structuredContent as { approval_id: string }).approval_id;

    const pending = (await agent.callTool({
      name: 'get_approval',
      arguments: { approval_id: id },
    })) as CallToolResult;
    expect(text(pending)).toContain(`waits for the decision (up to ${MAX_APPROVAL_WAIT_MS / 1000} s a call)`);

    await h.rt.approvals.approve(id, 'alice', { channel: 'cli', reason: 'ok' });
    const seen = (await other.callTool({
      name: 'get_approval',
      arguments: { approval_id: id },
    })) as CallToolResult;
    expect(seen.isError, text(seen)).toBeFalsy();
    expect((seen.structuredContent as { approval_token?: string }).approval_token).toBeUndefined();
    expect(text(seen)).toContain(
      `Its requester may now call test_write again with the same arguments plus "approval_id":"${id}"`,
    );
    expect(text(seen)).not.toMatch(/d2t_/);
  });
});
