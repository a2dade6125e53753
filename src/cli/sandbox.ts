import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** The real HPA controller's default --horizontal-pod-autoscaler-sync-period. */
const HPA_SYNC_MS = 15_000;
import type { SandboxReady } from '../sandbox/sandbox-files.js';

const USAGE = `Usage: day2 sandbox [--fleet F] [--dir D] [--watch-stdin]

Runs the emulated world as its own process: a Kubernetes API server per environment (HTTPS), the
Datadog and AWS Secrets Manager emulators, the real Alertmanager and registry when installed, and
the fleet's databases on PostgreSQL. Writes what a client needs to connect into D:
  day2.yaml               every environment's endpoints (day2 serve --config D/day2.yaml)
  kubeconfig-<env>.yaml   for kubectl and any Kubernetes client (CA data and a bearer token)
  sandbox.env             DD_API_KEY, DD_APP_KEY, AWS_ACCESS_KEY_ID, ... (mode 0600)
Prints one JSON line on stdout when ready ({"ready":true,"config":...}); logs go to stderr.
Runs until SIGINT or SIGTERM (or, with --watch-stdin, until its standard input closes), then
stops every process it started.
  --fleet F       a fleet file (default the built-in demo fleet)
  --dir D         where to write the files (kept); default a temporary folder, removed at exit
  --watch-stdin   exit when standard input closes (how day2 serve --sandbox runs it)
DAY2_SANDBOX_POSTGRES: the PostgreSQL admin URL for the fleet's databases, or "off".`;

/** `day2 sandbox`: the sandbox as its own process, with the files a client needs to connect. */
export const sandboxCommand: Command = {
  usage: USAGE,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      fleet: { type: 'string' },
      dir: { type: 'string' },
      'watch-stdin': { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const [
      { startSandbox },
      { writeSandboxFiles },
      { reapedTempDir },
      { createLogger },
      { Redactor },
      levels,
      { releaseStartupMemory },
    ] = await Promise.all([
      import('../sandbox/start-sandbox.js'),
      import('../sandbox/sandbox-files.js'),
      import('../sandbox/reaper.js'),
      import('../core/log.js'),
      import('../core/redact.js'),
      import('../config/log-level.js'),
      import('../server/idle-trim.js'),
    ]);
    const redactor = new Redactor();
    const log = createLogger({ redactor, level: levels.logLevelFrom(io.env) });

    // Every way this process is asked to end leads to the same clean stop.
    let stop!: (why: string) => void;
    const stopped = new Promise<string>((r) => (stop = r));
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGHUP', () => stop('SIGHUP'));
    if (values['watch-stdin']) {
      io.stdin.once('end', () => stop('stdin closed'));
      io.stdin.once('close', () => stop('stdin closed'));
      io.stdin.resume();
    }

    const temp = values.dir ? undefined : await reapedTempDir('day2-sandbox-');
    const dir = values.dir ? resolve(io.cwd, values.dir) : temp!.path;
    if (values.dir) await mkdir(dir, { recursive: true });
    const pg = io.env.DAY2_SANDBOX_POSTGRES?.trim();
    let sandbox: Awaited<ReturnType<typeof startSandbox>> | undefined;
    try {
      sandbox = await Promise.race([
        startSandbox({
          fleet: values.fleet ? resolve(io.cwd, values.fleet) : undefined,
          log,
          redactor,
          env: io.env,
          postgres: pg === 'off' ? false : pg ? { url: pg } : undefined,
          // A sandbox someone uses acts like a cluster: its HPAs follow the pods' metrics, every 15 s
          // as the real controller syncs (the demo's checkout, at 92% of a 70% target, scales out).
          timing: { hpaSyncMs: HPA_SYNC_MS },
        }),
        stopped.then((why) => {
          throw new Error(`stopped (${why}) before the sandbox was ready`);
        }),
      ]);
      const files = await writeSandboxFiles(sandbox, dir);
      const ready: SandboxReady = { ready: true, pid: process.pid, dir, ...files };
      println(io.stdout, JSON.stringify(ready));
      // Seeding (fleet objects, SDK clients) grew the heap; the sandbox then mostly waits.
      releaseStartupMemory(log);
      const anyEnv = Object.keys(files.kubeconfigs)[0];
      println(
        io.stderr,
        `day2 sandbox: ${sandbox.describe} ready in ${dir}\n` +
          `  day2:    set -a; . ${files.env}; set +a; day2 serve --config ${files.config}\n` +
          (anyEnv
            ? `  kubectl: kubectl --kubeconfig ${files.kubeconfigs[anyEnv]} get deployments -A\n`
            : '') +
          `Stop with Ctrl-C.`,
      );
      log.info('sandbox stopping', { reason: await stopped });
      return EXIT_OK;
    } finally {
      // A stop that hangs (a backend socket) must not keep the processes it should end alive.
      setTimeout(() => process.exit(process.exitCode ?? 1), 5000).unref();
      await sandbox?.close().catch((err: unknown) => log.error('sandbox: stop failed', { error: err }));
      await temp?.remove();
    }
  },
};
