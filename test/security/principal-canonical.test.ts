import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { checkApprover } from '../../src/guards/approver-check.js';
import { signDecision } from '../../src/guards/approver-keys.js';
import { canonicalPrincipal } from '../../src/core/principal.js';
import { BearerAuth } from '../../src/http/bearer-auth.js';
import { silentLogger } from '../../src/core/log.js';
import type { ApprovalRequest } from '../../src/store/store.js';
import { startHarness, type TestHarness } from '../fixtures/in-memory-runtime.js';

/** The default rule for critical production writes, taking approvals through one channel. */
const criticalPolicy = (channel: string) => ({
  rules: [
    {
      id: 'production-critical-writes',
      match: { tier: 'production', risk: 'critical' },
      decision: 'require_approval',
      approvals: 2,
      distinct_from_requester: true,
      channels: [channel],
    },
  ],
});

/** Spellings of one principal that must never count as someone else. */
const AGENT_7 = ['Agent-7', 'agent-7\u200b', ' AGENT-7 ', 'ａｇｅｎｔ－７', '\u0430gent-7', 'agent\u20117'];
const ALICE = ['Alice', 'alice\u200d', 'ａｌｉｃｅ', '\u0430lice', 'al\u0456ce', '\u2060alice'];

describe('canonicalPrincipal', () => {
  it('folds case, width, invisible characters, surrounding space and Cyrillic/Greek look-alikes', () => {
    for (const s of AGENT_7) expect(canonicalPrincipal(s), JSON.stringify(s)).toBe('agent-7');
    for (const s of ALICE) expect(canonicalPrincipal(s), JSON.stringify(s)).toBe('alice');
    expect(canonicalPrincipal('\u03bf\u03c1s')).toBe('ops');
    expect(canonicalPrincipal('bob')).not.toBe(canonicalPrincipal('alice'));
  });
});

describe('separation of duties compares canonical principals (issue item 4)', () => {
  let h: TestHarness;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A critical production write by agent-7: two approvers other than the requester. */
  const requestCritical = async (): Promise<string> => {
    const tool = h.rt.tools.find((t) => t.name === 'test_write')!;
    tool.risk = 'critical';
    const agent = await h.connect('agent-7');
    const r = (await agent.callTool({
      name: 'test_write',
      arguments: { env: 'prod', target: 'payments', value: 'rotated' },
    })) as CallToolResult;
    const s = r.structuredContent as { status: string; approval_id: string; policy: { rule: string } };
    expect(s.status).toBe('approval_required');
    expect(s.policy.rule).toBe('production-critical-writes');
    return s.approval_id;
  };

  it.each(['cli', 'http'])(
    'through the %s channel: no spelling of agent-7 approves its own request, no spelling of alice counts twice',
    async (channel) => {
      h = await startHarness({
        policy: criticalPolicy(channel),
      });
      const id = await requestCritical();
      for (const self of AGENT_7)
        await expect(h.rt.approvals.approve(id, self, { channel }), JSON.stringify(self)).rejects.toThrow(
          /needs an approver other than the requester/,
        );
      await h.rt.approvals.approve(id, 'alice', { channel });
      for (const again of ALICE)
        await expect(h.rt.approvals.approve(id, again, { channel }), JSON.stringify(again)).rejects.toThrow(
          /has already approved/,
        );
      const r = (await h.rt.approvals.get(id))!;
      expect(r.status).toBe('pending');
      await h.rt.auditLog.flush();
      const refused = (
        await h.rt.deps.store.queryAudit({ limit: 500, event: 'approval.approve.refused' })
      ).map((x) => (JSON.parse(x.record) as { approval: { code: string } }).approval.code);
      expect(refused).toEqual([
        ...AGENT_7.map(() => 'self_approval'),
        ...ALICE.map(() => 'duplicate_approver'),
      ]);
      await h.rt.approvals.approve(id, 'bob', { channel });
      expect((await h.rt.approvals.get(id))!.status).toBe('approved');
    },
  );

  it('through signed approvals: a key registered for alice is the key of every spelling of alice, and counts once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'day2-sig-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, 'alice.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const agentKey = generateKeyPairSync('ed25519');
    h = await startHarness({
      approvals: {
        keys: [
          { principal: 'alice', public_key_file: join(dir, 'alice.pub.pem') },
          {
            principal: 'agent-7',
            public_key: agentKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          },
        ],
      },
      policy: criticalPolicy('signed'),
    });
    const id = await requestCritical();
    const request = (await h.rt.approvals.get(id))!;
    const signed = (principal: string, key: string) => ({
      channel: 'signed',
      signature: signDecision(key, {
        approval_id: id,
        action_digest: request.action_digest,
        decision: 'approve',
        principal,
      }),
    });
    const agentPem = agentKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(h.rt.approvals.approve(id, 'Agent-7', signed('Agent-7', agentPem))).rejects.toThrow(
      /other than the requester/,
    );
    await h.rt.approvals.approve(id, 'alice', signed('alice', pem));
    for (const again of ALICE)
      await expect(
        h.rt.approvals.approve(id, again, signed(again, pem)),
        JSON.stringify(again),
      ).rejects.toThrow(/has already approved/);
    expect((await h.rt.approvals.get(id))!.status).toBe('pending');
  });

  it('the approval page signs an approver in under the configured name, whatever spelling was typed', () => {
    const auth = new BearerAuth(
      [{ principal: 'alice', token_env: 'T_ALICE' }],
      { T_ALICE: 's3cret' },
      silentLogger,
    );
    for (const typed of ALICE)
      expect(auth.verify(typed, 's3cret')?.principal, JSON.stringify(typed)).toBe('alice');
    expect(auth.verify('bob', 's3cret')).toBeUndefined();
  });

  it('grant_access: no spelling of the grantee approves the grant of its own access', () => {
    const request = {
      id: 'apr_1',
      status: 'pending',
      requester: 'agent-7',
      expires_at: new Date(Date.now() + 60_000).toISOString(),
      decisions: [],
      plan: { excluded_approvers: ['bob'] },
      policy: {
        rule: 'r',
        approvals_needed: 1,
        distinct_from_requester: true,
        reason_required: false,
        channels: ['cli'],
      },
    } as unknown as ApprovalRequest;
    for (const grantee of ['Bob', 'bob\u200b', 'ｂｏｂ', 'b\u043eb'])
      expect(checkApprover(request, grantee, new Date(), { channel: 'cli' }), grantee).toMatchObject({
        ok: false,
        code: 'excluded_approver',
      });
    expect(checkApprover(request, 'alice', new Date(), { channel: 'cli' })).toEqual({ ok: true });
  });
});

describe('configured principals that collide after canonicalisation (issue item 4)', () => {
  it('are a config error naming both paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'day2-cfg-'));
    try {
      writeFileSync(
        join(dir, 'day2.yaml'),
        [
          'principal: agent-7',
          'http:',
          '  tokens:',
          '    - { principal: Agent-7, token_env: AGENT_TOKEN }',
          '  approvers:',
          '    - { principal: alice, token_env: ALICE_TOKEN }',
          '    - { principal: "\u0430lice", token_env: FAKE_ALICE_TOKEN }',
          'approvals:',
          '  keys:',
          '    - { principal: "ａｌｉｃｅ", public_key: "x" }',
        ].join('\n'),
      );
      let err: unknown;
      try {
        loadConfig({ cwd: dir, env: {} });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(
        /http\.tokens\[0\]\.principal: one spelling per principal: "Agent-7" is the same principal as "agent-7" at principal/,
      );
      expect(problems).toMatch(
        /http\.approvers\[1\]\.principal: .* same principal as "alice" at http\.approvers\[0\]\.principal/,
      );
      expect(problems).toMatch(
        /approvals\.keys\[0\]\.principal: .* same principal as "alice" at http\.approvers\[0\]\.principal/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
