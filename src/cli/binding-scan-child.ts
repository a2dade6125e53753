/**
 * The reaper's cluster scan as a process of its own (see binding-scan-process.ts): reads
 * `{ config, baseDir }` as JSON on stdin, lists the day2 RoleBindings of every environment's
 * cluster with the official client, writes one JSON line (a BindingScan) on stdout and exits. It
 * only reads: no store, no audit, no write to any backend. Credentials come from its environment,
 * as the server's do; its log (stderr) is redacted like the server's.
 */
import { buffer } from 'node:stream/consumers';
import { logLevelFrom } from '../config/log-level.js';
import { createLogger } from '../core/log.js';
import { Redactor } from '../core/redact.js';
import type { Config } from '../config/schema.js';
import { realBackends } from '../providers/real-backends.js';
import { scanBindings } from '../tools/access/reaper.js';

const input = JSON.parse((await buffer(process.stdin)).toString('utf8')) as {
  config: Config;
  baseDir: string;
};
const redactor = new Redactor();
const log = createLogger({ redactor, level: logLevelFrom(process.env) });
const backends = realBackends({
  config: input.config,
  baseDir: input.baseDir,
  env: process.env,
  log,
  redactor,
});
let code = 0;
try {
  const scan = await scanBindings(backends, Object.keys(input.config.environments));
  process.stdout.write(JSON.stringify(scan) + '\n');
} catch (err) {
  log.error('access reaper: the cluster scan failed', { error: err });
  code = 1;
} finally {
  await backends.close().catch(() => undefined);
}
// Keep-alive sockets must not hold the process once its answer is out.
process.exit(code);
