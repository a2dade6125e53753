import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '../../src/config/load-config.js';
import { ApproverKeys, signDecision, type DecisionStatement } from '../../src/guards/approver-keys.js';

const pair = (type: 'ed25519' | 'rsa' = 'ed25519') => {
  const { privateKey, publicKey } =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 1024 }) : generateKeyPairSync('ed25519');
  return {
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    pub: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
};

describe('ApproverKeys', () => {
  const alice = pair();
  const keys = ApproverKeys.load([{ principal: 'alice', public_key: alice.pub }], '/nonexistent');
  const statement: DecisionStatement = {
    approval_id: 'apr_0123456789abcdef',
    action_digest: 'a'.repeat(64),
    decision: 'approve',
    principal: 'alice',
  };

  it("accepts the approver's signature of exactly this decision, and nothing else", () => {
    const sig = signDecision(alice.priv, statement);
    expect(keys.verify(statement, sig)).toBe(true);
    for (const other of [
      { ...statement, approval_id: 'apr_fedcba9876543210' },
      { ...statement, action_digest: 'b'.repeat(64) },
      { ...statement, decision: 'deny' as const },
      { ...statement, principal: 'bob' },
    ])
      expect(keys.verify(other, sig), JSON.stringify(other)).toBe(false);
    expect(keys.verify(statement, signDecision(pair().priv, statement))).toBe(false);
    expect(keys.verify(statement, undefined)).toBe(false);
    expect(keys.verify(statement, 'not base64 at all!')).toBe(false);
  });

  it('names every bad entry: not Ed25519, not a key, a second key for one approver', () => {
    try {
      ApproverKeys.load(
        [
          { principal: 'a', public_key: pair('rsa').pub },
          { principal: 'b', public_key: 'not a key' },
          { principal: 'alice', public_key: alice.pub },
          { principal: 'alice', public_key: pair().pub },
        ],
        '/',
      );
      expect.unreachable('a bad key list must not load');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems[0]).toMatch(/^approvals\.keys\.0\.public_key: expected an Ed25519 public key, got rsa/);
      expect(problems[1]).toMatch(/^approvals\.keys\.1\.public_key: cannot read a PEM public key/);
      expect(problems[2]).toBe('approvals.keys.3.principal: alice has a key already; give one per approver');
    }
    expect(() => signDecision(pair('rsa').priv, statement)).toThrow(/approver keys are Ed25519/);
  });
});
