import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import { auditKeyPaths, publicKeyPathFor } from '../guards/audit-config.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import type { CliIo } from './io.js';

/** The store `day2 serve` uses, opened for a command that only reads the audit log. */
export async function openCliStore(
  io: CliIo,
  configPath?: string,
): Promise<{ store: Store; loaded: LoadedConfig; verifyKeyPaths: string[] }> {
  const loaded = loadConfig({ path: configPath, env: io.env, cwd: io.cwd });
  const keys = auditKeyPaths(loaded, io.env);
  // audit.verify_key first; else the public half of the signing key, from whichever file is here.
  const fallback = [keys.signing, publicKeyPathFor(keys.signing)].filter((p) => existsSync(p)).slice(0, 1);
  const store = await openStore(loaded.store, { timeoutMs: loaded.config.store.timeout });
  return { store, loaded, verifyKeyPaths: keys.verify.length ? keys.verify : fallback };
}
