/**
 * A read of the Kubernetes clusters as a process of its own (see src/server/cluster-read-process.ts),
 * so that a server that has not loaded the official Kubernetes client need not: reads
 * `{ config, baseDir, read }` as JSON on stdin, and writes one JSON line on stdout, then exits,
 * with a member for each read asked for:
 * - `bindings`: the day2 RoleBindings of every environment (the access reaper's scan);
 * - `workloads`: every Deployment's labels (the catalog's live labels at start-up).
 * It only reads: no store, no audit, no write to any backend. Credentials come from its
 * environment, as the server's do; its log (stderr) is redacted like the server's.
 */
import { buffer } from 'node:stream/consumers';
import { logLevelFrom } from '../config/log-level.js';
import { createLogger } from '../core/log.js';
import { Redactor } from '../core/redact.js';
import type { Config } from '../config/schema.js';
import { realBackends } from '../providers/real-backends.js';
import { liveWorkloads } from '../server/build-backends.js';
import { gapReason } from '../tools/context/gather.js';
import { scanBindings } from '../tools/access/reaper.js';

const input = JSON.parse((await buffer(process.stdin)).toString('utf8')) as {
  config: Config;
  baseDir: string;
  read: ('bindings' | 'workloads')[];
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
const envs = Object.keys(input.config.environments);
let code = 0;
try {
  const [workloads, bindings] = await Promise.all([
    input.read.includes('workloads')
      ? liveWorkloads(backends, envs, input.config.backends.timeout).then((live) => ({
          workloads: live.workloads,
          gaps: live.failures.map((f) => ({ env: f.env, error: redactor.redactText(gapReason(f.error)) })),
        }))
      : undefined,
    input.read.includes('bindings') ? scanBindings(backends, envs) : undefined,
  ]);
  process.stdout.write(JSON.stringify({ workloads, bindings }) + '\n');
} catch (err) {
  log.error('the cluster read failed', { read: input.read, error: err });
  code = 1;
} finally {
  await backends.close().catch(() => undefined);
}
// Keep-alive sockets must not hold the process once its answer is out.
process.exit(code);
