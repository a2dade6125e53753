import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../config/load-config.js';
import { defaultSigningKeyPath, openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import type { CliIo } from './io.js';

/** The store `day2 serve` uses, opened for a command that only reads the audit log. */
export async function openCliStore(
  io: CliIo,
  configPath?: string,
): Promise<{ store: Store; signingKeyPath?: string }> {
  const loaded = loadConfig({ path: configPath, env: io.env, cwd: io.cwd });
  const keyPath = loaded.config.audit.signing_key_file
    ? resolve(loaded.baseDir, loaded.config.audit.signing_key_file)
    : defaultSigningKeyPath(loaded.store);
  const store = await openStore(loaded.store, { timeoutMs: loaded.config.store.timeout });
  return { store, signingKeyPath: existsSync(keyPath) ? keyPath : undefined };
}
