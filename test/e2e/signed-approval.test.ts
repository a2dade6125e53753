import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { allAudit } from '../fixtures/audit-records.js';
import { runCli } from '../fixtures/run-cli.js';
import { startStdio, type StdioSession } from '../fixtures/stdio-client.js';
import { makeTestEnv, TEST_POLICY, type TestEnv } from '../fixtures/test-env.js';

/** Writes an Ed25519 key pair as PEM files; returns their paths. */
function keyPair(dir: string, name: string): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.pem`);
  writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

// A rule that takes only signed approvals: DAY2_PRINCIPAL alone no longer makes anyone alice.
describe('signed approvals (day2 approve --key)', () => {
  let t: TestEnv;
  let s: StdioSession;
  let store: Store;
  let alice: { priv: string; pub: string };
  let mallory: { priv: string; pub: string };

  const approveAs = (principal: string, id: string, extra: string[] = []) =>
    runCli(['approve', id, '--yes', '--config', t.configPath, ...extra], {
      ...t.env,
      DAY2_PRINCIPAL: principal,
    });
  const request = async (target: string) => {
    const r = await s.call('test_write', { env: 'prod', target, value: 'v1' });
    return (r.structuredContent as { approval_id: string }).approval_id;
  };

  let keys: ReturnType<typeof makeTestEnv> | undefined;
  beforeAll(async () => {
    keys = makeTestEnv();
    alice = keyPair(keys.dir, 'alice');
    mallory = keyPair(keys.dir, 'mallory');
    t = makeTestEnv({
      policy: {
        version: 'signed-1',
        rules: [
          {
            id: 'signed-only',
            match: { tool: 'test_write', service: 'vault' },
            decision: 'require_approval',
            channels: ['signed'],
          },
          ...TEST_POLICY.rules,
        ],
      },
      approvals: { keys: [{ principal: 'alice', public_key_file: alice.pub }] },
    });
    s = await startStdio(t, { principal: 'agent-9', args: ['--toolsets', 'all'] });
    store = await openStore(t.storePath);
  });
  afterAll(async () => {
    await s?.close();
    await store?.close();
    t?.cleanup();
    keys?.cleanup();
  });

  it("refuses an unsigned approval and one signed with another key; takes alice's signature", async () => {
    const id = await request('vault');
    const unsigned = await approveAs('alice', id);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain(
      'does not accept approvals through cli (it takes signed: sign with day2 approve --key)',
    );
    const forged = await approveAs('alice', id, ['--key', mallory.priv]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain("the signature is not alice's signature of this decision");
    const nobody = await approveAs('mallory', id, ['--key', mallory.priv]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain('no approver key is configured for mallory');
    expect((await store.getApproval(id))!.status).toBe('pending');

    const signed = await approveAs('alice', id, ['--key', alice.priv]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/Approved by alice \(1 of 1\)\.\nagent-9 reads the single-use token once/);
    const decided = (await store.getApproval(id))!;
    expect(decided.status).toBe('approved');
    expect(decided.decisions).toMatchObject([{ principal: 'alice', channel: 'signed' }]);
    expect(decided.decisions[0]!.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const audit = await allAudit(store);
    expect(audit.filter((r) => r.event === 'approval.approve.refused').map((r) => r.approval?.code)).toEqual(
      expect.arrayContaining(['channel_not_allowed', 'bad_signature']),
    );
    expect(audit.some((r) => r.event === 'approval.approved' && r.approval?.channel === 'signed')).toBe(true);
  });

  it('a key file that is not a private key is a usage error that names it', async () => {
    const id = await request('vault-b');
    const r = await approveAs('alice', id, ['--key', alice.pub]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--key: ${alice.pub} is not an Ed25519 private key`);
    expect((await store.getApproval(id))!.decisions).toEqual([]);
  });

  it('day2 config check names a key file it cannot read', async () => {
    const bad = makeTestEnv({ approvals: { keys: [{ principal: 'bob', public_key_file: 'missing.pem' }] } });
    try {
      const r = await runCli(['config', 'check', '--config', bad.configPath], bad.env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('approvals.keys.0.public_key_file: cannot read a PEM public key');
    } finally {
      bad.cleanup();
    }
  });
});
