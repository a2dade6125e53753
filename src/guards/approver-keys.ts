import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/load-config.js';
import { canonicalJson } from '../core/canonical-json.js';
import { canonicalPrincipal } from '../core/principal.js';

/**
 * The policy channel of an approval signed with the approver's own key: the strong channel for
 * a shared deployment, where `day2 approve` alone knows the approver only by DAY2_PRINCIPAL or
 * the OS user. A rule that lists only `signed` takes no other approval.
 */
export const SIGNED_CHANNEL = 'signed';

/** What an approver signs: one decision, on one request, for the action it was made for. */
export interface DecisionStatement {
  approval_id: string;
  action_digest: string;
  decision: 'approve' | 'deny';
  principal: string;
}

function payload(s: DecisionStatement): Buffer {
  return Buffer.from(
    canonicalJson({
      v: 1,
      approval_id: s.approval_id,
      action_digest: s.action_digest,
      decision: s.decision,
      principal: s.principal,
    }),
  );
}

/** Signs a decision with an Ed25519 private key (PEM); the signature is base64. */
export function signDecision(privateKeyPem: string, s: DecisionStatement): string {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `the key is ${key.asymmetricKeyType ?? 'not an asymmetric key'}; approver keys are Ed25519`,
    );
  return sign(null, payload(s), key).toString('base64');
}

/** The approvers' public keys from `approvals.keys`, by principal in canonical form. */
export class ApproverKeys {
  private constructor(private readonly keys: ReadonlyMap<string, KeyObject>) {}

  static none(): ApproverKeys {
    return new ApproverKeys(new Map());
  }

  /** Reads every key; a bad one is a ConfigError naming its entry, so no approver is silently dropped. */
  static load(entries: Config['approvals']['keys'], baseDir: string): ApproverKeys {
    const keys = new Map<string, KeyObject>();
    const problems: string[] = [];
    entries.forEach((e, i) => {
      const where = `approvals.keys.${i}.${e.public_key_file ? 'public_key_file' : 'public_key'}`;
      try {
        const pem = e.public_key ?? readFileSync(resolve(baseDir, e.public_key_file!), 'utf8');
        const key = createPublicKey(pem);
        if (key.asymmetricKeyType !== 'ed25519')
          problems.push(
            `${where}: expected an Ed25519 public key, got ${key.asymmetricKeyType ?? 'another kind'}`,
          );
        else if (keys.has(canonicalPrincipal(e.principal)))
          problems.push(
            `approvals.keys.${i}.principal: ${e.principal} has a key already; give one per approver`,
          );
        else keys.set(canonicalPrincipal(e.principal), key);
      } catch (err) {
        problems.push(`${where}: cannot read a PEM public key (${(err as Error).message})`);
      }
    });
    if (problems.length) throw new ConfigError(problems);
    return new ApproverKeys(keys);
  }

  /** Whether `signature` is `principal`'s signature of this decision. */
  verify(s: DecisionStatement, signature: string | undefined): boolean {
    const key = this.keys.get(canonicalPrincipal(s.principal));
    if (!key || !signature) return false;
    try {
      return verify(null, payload(s), key, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }

  has(principal: string): boolean {
    return this.keys.has(canonicalPrincipal(principal));
  }
}
