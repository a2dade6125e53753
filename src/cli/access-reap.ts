import { buildRuntime } from '../server/build-runtime.js';
import { buildBackends, withEnvironments } from '../server/build-backends.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../core/log.js';
import { Redactor } from '../core/redact.js';
import { reapExpiredGrants } from '../tools/access/reaper.js';
import { EXIT_FAIL, EXIT_OK, parseCommandArgs, println, UsageError, type CliIo, type Command } from './io.js';

/** `day2 access reap`: one pass of the access reaper, for cron (`day2 serve` runs it on its own). */
export const accessReap: Command = {
  usage: `Usage: day2 access reap [--config F] [--json]

Revokes every access grant past its expiry (RoleBindings deleted, database roles REVOKEd) and
audits each revocation. Safe to run from cron next to \`day2 serve\`, which runs the same reaper.
Exit 0 when every expired grant was revoked; exit 1 when one could not be (it is retried next run).
  --json    print the result as JSON`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      config: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const loaded = loadConfig({ path: values.config, env: io.env, cwd: io.cwd });
    const redactor = new Redactor();
    const log = createLogger({ redactor, level: 'warn', sink: (line) => io.stderr.write(line + '\n') });
    const built = await buildBackends(loaded, { log, redactor, env: io.env });
    try {
      const rt = await buildRuntime({
        loaded: withEnvironments(loaded, built),
        log,
        redactor,
        env: io.env,
        backends: built.backends,
        catalog: built.catalog,
      });
      try {
        const r = await reapExpiredGrants(rt.deps, rt.audit);
        if (values.json) println(io.stdout, JSON.stringify(r));
        else {
          for (const g of r.revoked)
            println(
              io.stdout,
              `revoked ${g.id}: ${g.principal} ${g.role} on ${g.where} (expired ${g.expired_at})`,
            );
          for (const f of r.failed) println(io.stdout, `FAILED ${f.id} in ${f.env}: ${f.error}`);
          for (const g of r.gaps) println(io.stdout, `not read: ${g.env}: ${g.error}`);
          println(io.stdout, `${r.revoked.length} expired grant(s) revoked, ${r.failed.length} failed`);
        }
        return r.failed.length ? EXIT_FAIL : EXIT_OK;
      } finally {
        await rt.close();
      }
    } finally {
      await built.close();
    }
  },
};

/** Runs `day2 access reap` with `argv` (the arguments after `access reap`). */
export function accessReapCommand(io: CliIo, argv: string[]): Promise<number> {
  return accessReap.run(argv, io);
}
