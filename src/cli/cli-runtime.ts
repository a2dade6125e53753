import { buildRuntime, type OwnedRuntime } from '../server/build-runtime.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { createLogger } from '../core/log.js';
import { Redactor } from '../core/redact.js';
import type { Backends } from '../providers/backends.js';
import type { CliIo } from './io.js';

/**
 * The runtime a CLI command needs (store, audit log, policy, approvals) over the same store as
 * `day2 serve`: DAY2_STORE, else the config's store.url, else ./.day2/day2.db. No backends.
 */
export async function openCliRuntime(
  io: CliIo,
  configPath?: string,
): Promise<{ rt: OwnedRuntime; loaded: LoadedConfig }> {
  const loaded = loadConfig({ path: configPath, env: io.env, cwd: io.cwd });
  const redactor = new Redactor();
  const log = createLogger({ redactor, level: 'warn', sink: (line) => io.stderr.write(line + '\n') });
  // The CLI never calls a backend: approving and auditing work on day2's own records only.
  const rt = await buildRuntime({ loaded, log, redactor, env: io.env, backends: {} as Backends });
  return { rt, loaded };
}
