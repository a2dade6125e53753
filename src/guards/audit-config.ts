import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config/load-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import { defaultSigningKeyPath, isPostgresSpec } from '../store/open-store.js';
import type { WitnessSettings } from './audit-witness.js';

/** Where the audit keys are, after configuration and defaults. */
export interface AuditKeyPaths {
  /** The Ed25519 private key `day2 serve` signs checkpoints with (created there when missing). */
  signing: string;
  /**
   * The signing key sits where the store's own files are: whoever can rewrite the store can
   * re-sign it. Still used, so that existing setups keep verifying; `day2 config check` warns.
   */
  besideStore: boolean;
  /** Public keys `day2 audit verify` checks with (audit.verify_key); empty when none is configured. */
  verify: string[];
}

/**
 * The default private key lives in the user's configuration folder, not beside the store:
 * `$XDG_CONFIG_HOME/day2/audit-signing.pem`, else `~/.config/day2/audit-signing.pem`. A key at the
 * old default (beside a SQLite store, or `./.day2/`) is still used while it exists.
 */
export function auditKeyPaths(loaded: LoadedConfig, env: NodeJS.ProcessEnv): AuditKeyPaths {
  const { config, baseDir } = loaded;
  const verifyKey = config.audit.verify_key;
  const verify = (verifyKey === undefined ? [] : [verifyKey].flat()).map((p) => resolve(baseDir, p));
  const storeDir = isPostgresSpec(loaded.store) ? undefined : dirname(resolve(loaded.store));
  if (config.audit.signing_key_file) {
    const signing = resolve(baseDir, config.audit.signing_key_file);
    return { signing, besideStore: storeDir !== undefined && dirname(signing) === storeDir, verify };
  }
  // The old default, relative to the working folder as it always was.
  const legacy = resolve(defaultSigningKeyPath(loaded.store));
  if (existsSync(legacy)) return { signing: legacy, besideStore: true, verify };
  const configHome = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return { signing: join(configHome, 'day2', 'audit-signing.pem'), besideStore: false, verify };
}

/** The public key file written beside a private key day2 creates: `x.pem` → `x.pub.pem`. */
export function publicKeyPathFor(privatePath: string): string {
  return privatePath.replace(/(\.pem)?$/, '.pub.pem');
}

/** audit.witness with paths resolved and secrets read from the environment; undefined when unset. */
export function witnessSettings(loaded: LoadedConfig, env: NodeJS.ProcessEnv): WitnessSettings | undefined {
  const w = loaded.config.audit.witness;
  if (!w) return undefined;
  if (w.file) return { kind: 'file', path: resolve(loaded.baseDir, w.file) };
  if (w.directory) return { kind: 'directory', path: resolve(loaded.baseDir, w.directory) };
  if (w.webhook) {
    const tokenEnv = w.webhook.token_env;
    const token = tokenEnv ? env[tokenEnv] : undefined;
    if (tokenEnv && !token)
      throw new ConfigError([
        `audit.witness.webhook.token_env: expected environment variable ${tokenEnv} to hold the bearer token; it is not set`,
      ]);
    return { kind: 'webhook', url: w.webhook.url, token, timeoutMs: w.webhook.timeout };
  }
  if (w.postgres) {
    const url = env[w.postgres.url_env];
    if (!url)
      throw new ConfigError([
        `audit.witness.postgres.url_env: expected environment variable ${w.postgres.url_env} to hold the witness database URL; it is not set`,
      ]);
    return { kind: 'postgres', url, table: w.postgres.table };
  }
  return undefined;
}
