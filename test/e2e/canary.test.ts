import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { testRuntime } from '../fixtures/in-memory.js';
import { startStdio, type StdioSession } from '../fixtures/stdio-client.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites, makeTestTools } from '../fixtures/test-tools.js';
import { issuedToken } from '../fixtures/approval-token.js';

const CANARY = 'canary-Zq8vP3xK9mW2';

// A secret passed in a secret-named argument must never come back out: not in a result, not in a
// log line on stderr, not in an audit record, not anywhere in the store's files.
describe('canary secret never leaves', () => {
  let t: TestEnv;
  let s: StdioSession;
  const outputs: string[] = [];

  beforeAll(async () => {
    t = makeTestEnv();
    t.env.DAY2_LOG_LEVEL = 'debug';
    s = await startStdio(t, { principal: 'agent-canary', args: ['--toolsets', 'all'] });
  });
  afterAll(async () => {
    await s?.close();
    t?.cleanup();
  });

  it('runs plan, refusal, approval and execution with the canary in the arguments', async () => {
    const keep = (r: unknown) => {
      outputs.push(JSON.stringify(r));
      return r as { structuredContent?: Record<string, unknown>; isError?: boolean };
    };
    const args = { env: 'prod', target: 'web', value: 'v1', password: CANARY };
    const asked = keep(await s.call('test_write', args));
    expect(asked.structuredContent?.status).toBe('approval_required');
    keep(await s.call('test_write', { ...args, dry_run: true }));
    expect(keep(await s.call('test_write', { target: 'web', password: CANARY })).isError).toBe(true);
    expect(keep(await s.call('test_write', { ...args, env: 'nowhere' })).isError).toBe(true);
    expect(keep(await s.call('test_write', { ...args, approval_token: CANARY })).isError).toBe(true);

    const rt = await testRuntime(t, makeTestTools(t.backendFile));
    const approved = await rt.approvals.approve(asked.structuredContent!.approval_id as string, 'alice', {
      channel: 'cli',
    });
    const token = await issuedToken(rt.approvals, approved);
    await rt.close();
    const done = keep(await s.call('test_write', { ...args, approval_token: token }));
    expect(done.structuredContent?.status).toBe('executed');
    expect(backendWrites(t.backendFile)).toHaveLength(1);
    keep(await s.call('search_audit', { limit: 100 }));
    keep(await s.client.readResource({ uri: 'day2://audit/recent' }));
    keep(await s.client.readResource({ uri: 'day2://approvals/pending' }));
  });

  it('finds the canary in no result, log line, audit record or store file', async () => {
    await s.close();
    expect(outputs.length).toBeGreaterThan(5);
    for (const o of outputs) expect(o).not.toContain(CANARY);
    const stderr = s.stderr();
    expect(stderr).toContain('serving');
    expect(stderr).not.toContain(CANARY);

    const store = await openStore(t.storePath);
    let records = 0;
    for await (const batch of store.scanAudit(1000)) {
      for (const r of batch) {
        records++;
        expect(r.record).not.toContain(CANARY);
      }
    }
    await store.close();
    expect(records).toBeGreaterThan(5);
    // The redaction marker proves the field was seen and masked, not merely absent.
    const dir = dirname(t.storePath);
    const files = readdirSync(dir).filter((f) => f.startsWith('day2.db'));
    const bytes = files.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    expect(bytes).toContain('[REDACTED]');
    expect(bytes).not.toContain(CANARY);
    expect(existsSync(t.storePath)).toBe(true);
  });
});
