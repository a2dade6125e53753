import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseSync } from 'node:sqlite';
import { buildRuntime, type OwnedRuntime } from '../../src/server/build-runtime.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import type { Backends } from '../../src/providers/backends.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { allAudit } from '../fixtures/audit-records.js';
import { runCli } from '../fixtures/run-cli.js';
import { startStdio, textOf, type StdioSession } from '../fixtures/stdio-client.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites } from '../fixtures/test-tools.js';
import { issuedToken } from '../fixtures/approval-token.js';

// The "must show", end to end: a spawned `day2 serve` on stdio, a real SDK client, the
// real `day2` CLI approving, and a file as the backend so that refusals provably wrote nothing.
describe('governed write over stdio, approved with the day2 CLI', () => {
  let t: TestEnv;
  let s: StdioSession;
  let store: Store;
  const AGENT = 'agent-7';

  const requestApproval = async (args: Record<string, unknown>) => {
    const r = await s.call('test_write', args);
    expect(r.isError, textOf(r)).toBeFalsy();
    const sc = r.structuredContent as { status: string; approval_id: string; approve_with: string };
    expect(sc.status).toBe('approval_required');
    return sc;
  };
  const approveAs = (principal: string, id: string, extra: string[] = []) =>
    runCli(['approve', id, '--yes', '--config', t.configPath, ...extra], {
      ...t.env,
      DAY2_PRINCIPAL: principal,
    });
  const tokenFrom = (stdout: string) => /token: (d2t_[A-Za-z0-9_-]+)/.exec(stdout)?.[1];
  // The requesting agent reads its token with get_approval, once.
  const tokenVia = async (id: string) =>
    (
      (await s.call('get_approval', { approval_id: id })).structuredContent as {
        approval_token?: string;
      }
    ).approval_token;
  const events = async (event: string) => (await allAudit(store)).filter((r) => r.event === event);

  beforeAll(async () => {
    t = makeTestEnv();
    s = await startStdio(t, { principal: AGENT, args: ['--toolsets', 'all'] });
    store = await openStore(t.storePath);
  });
  afterAll(async () => {
    await s?.close();
    await store?.close();
    t?.cleanup();
  });

  let firstToken = '';
  const first = { env: 'prod', target: 'web', value: 'v1' };

  it('a write without a token returns approval_required and changes nothing', async () => {
    const sc = await requestApproval(first);
    expect(sc.approve_with).toBe(`day2 approve ${sc.approval_id}`);
    // Asking again with the same arguments returns the same pending request.
    expect((await requestApproval(first)).approval_id).toBe(sc.approval_id);
    expect(backendWrites(t.backendFile)).toHaveLength(0);

    const listed = await runCli(['approvals', '--config', t.configPath], t.env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(sc.approval_id);

    const approved = await approveAs('alice', sc.approval_id);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('Set web to "v1" in prod');
    expect(approved.stdout).toContain('one-approval');
    // alice is not the requester: the token is not hers to see.
    expect(tokenFrom(approved.stdout)).toBeUndefined();
    expect(approved.stdout).toContain(`${AGENT} reads the single-use token once with get_approval`);
    firstToken = (await tokenVia(sc.approval_id)) ?? '';
    expect(firstToken).toMatch(/^d2t_/);

    // Shown once: asking again tells when it was issued, never the token.
    const again = await s.call('get_approval', { approval_id: sc.approval_id });
    expect((again.structuredContent as { approval_token?: string }).approval_token).toBeUndefined();
    expect(textOf(again)).toMatch(/already issued at .* never shown again/);

    const done = await s.call('test_write', { ...first, approval_token: firstToken });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect((done.structuredContent as { status: string }).status).toBe('executed');
    expect(backendWrites(t.backendFile)).toHaveLength(1);
    const executes = await events('tool.execute');
    expect(executes.at(-1)).toMatchObject({ tool: 'test_write', principal: AGENT, env: 'prod' });
  });

  it('refuses a replayed token, audits it and writes nothing', async () => {
    const r = await s.call('test_write', { ...first, approval_token: firstToken });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/already used.*single-use/);
    expect((await events('approval.token_refused')).at(-1)?.approval?.code).toBe('consumed');
    expect(backendWrites(t.backendFile)).toHaveLength(1);
  });

  it('refuses a valid token for tampered arguments and for another environment', async () => {
    const sc = await requestApproval({ env: 'prod', target: 'web', value: 'v2' });
    expect((await approveAs('alice', sc.approval_id)).code).toBe(0);
    const token = (await tokenVia(sc.approval_id))!;
    const tampered = await s.call('test_write', {
      env: 'prod',
      target: 'web',
      value: 'v3',
      approval_token: token,
    });
    expect(tampered.isError).toBe(true);
    expect(textOf(tampered)).toMatch(/issued for a different action/);
    const otherEnv = await s.call('test_write', {
      env: 'staging',
      target: 'web',
      value: 'v2',
      approval_token: token,
    });
    expect(otherEnv.isError).toBe(true);
    expect(textOf(otherEnv)).toMatch(/issued for a different action/);
    const refused = (await events('approval.token_refused')).slice(-2);
    expect(refused.map((r) => [r.approval?.code, r.env])).toEqual([
      ['wrong_digest', 'prod'],
      ['wrong_digest', 'staging'],
    ]);
    expect(backendWrites(t.backendFile)).toHaveLength(1);
  });

  it('refuses an expired token', async () => {
    const sc = await requestApproval({ env: 'staging', target: 'ephemeral', value: 'x' });
    // Approved in-process through the same store (as the CLI does) so that the 6 s ttl is not spent starting a process.
    const rt: OwnedRuntime = await buildRuntime({
      loaded: loadConfig({ path: t.configPath, env: t.env }),
      log: silentLogger,
      redactor: new Redactor(),
      env: process.env,
      backends: {} as Backends,
    });
    const approved = await rt.approvals.approve(sc.approval_id, 'alice', { channel: 'cli' });
    const token = await issuedToken(rt.approvals, approved);
    await rt.close();
    expect(approved.status).toBe('approved');
    const waitMs = Date.parse(approved.token_expires_at!) - Date.now() + 50;
    await new Promise((r) => setTimeout(r, Math.max(0, waitMs)));
    const r = await s.call('test_write', {
      env: 'staging',
      target: 'ephemeral',
      value: 'x',
      approval_token: token,
    });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/expired/);
    expect((await events('approval.token_refused')).at(-1)?.approval?.code).toBe('expired');
    expect(backendWrites(t.backendFile)).toHaveLength(1);
  });

  it('refuses self-approval where policy needs a distinct approver', async () => {
    const sc = await requestApproval({ env: 'prod', target: 'billing', value: 'on' });
    const self = await approveAs(AGENT, sc.approval_id);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/needs an approver other than the requester/);
    expect(tokenFrom(self.stdout)).toBeUndefined();
    expect((await events('approval.approve.refused')).at(-1)).toMatchObject({
      principal: AGENT,
      approval: { code: 'self_approval' },
    });
    const got = await s.call('get_approval', { approval_id: sc.approval_id });
    expect(got.structuredContent).toMatchObject({ status: 'pending', approvals: 0 });
    expect(backendWrites(t.backendFile)).toHaveLength(1);
  });

  it('a token is not valid until every needed approver agreed', async () => {
    const args = { env: 'prod', target: 'payments', value: 'v9' };
    const sc = await requestApproval(args);
    const one = await approveAs('alice', sc.approval_id);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/1 of 2 approvals recorded; once 2 of 2 approve/);
    expect(tokenFrom(one.stdout)).toBeUndefined();
    // No token exists before the last approval, for anyone.
    expect(await tokenVia(sc.approval_id)).toBeUndefined();
    expect(backendWrites(t.backendFile)).toHaveLength(1);

    const again = await approveAs('alice', sc.approval_id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already approved/);

    const two = await approveAs('carol', sc.approval_id, ['--reason', 'change ticket 42']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toMatch(/Approved by carol \(2 of 2\)/);
    const done = await s.call('test_write', { ...args, approval_token: await tokenVia(sc.approval_id) });
    expect(done.isError, textOf(done)).toBeFalsy();
    expect(backendWrites(t.backendFile)).toHaveLength(2);
  });

  it('approve refuses without --yes when stdin is not a terminal', async () => {
    const sc = await requestApproval({ env: 'staging', target: 'web', value: 'q' });
    const r = await runCli(
      ['approve', sc.approval_id, '--config', t.configPath],
      { ...t.env, DAY2_PRINCIPAL: 'alice' },
      'y\n',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pass --yes/i);
    expect(r.stdout).toContain('Set web to "q" in staging');
  });

  it('day2 audit verify passes on the intact log and names the first edited record', async () => {
    const ok = await runCli(['audit', 'verify', '--config', t.configPath], t.env);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^audit log intact: \d+ records, \d+ signed checkpoints\n$/);

    const tail = await runCli(['audit', 'tail', '-n', '3', '--config', t.configPath], t.env);
    expect(tail.stdout.trim().split('\n')).toHaveLength(3);
    const exported = await runCli(['audit', 'export', '--config', t.configPath], t.env);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number });
    expect(lines[0]?.seq).toBe(1);

    await s.close();
    const db = new DatabaseSync(t.storePath);
    db.prepare(`UPDATE audit SET record = replace(record, 'prod', 'dev') WHERE seq = 3`).run();
    db.close();
    const bad = await runCli(['audit', 'verify', '--config', t.configPath], t.env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/seq 3: record 3 was edited/);
  });
});
