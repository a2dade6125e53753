import { checkConfig, ConfigError, loadConfig } from '../config/load-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import { ApproverKeys } from '../guards/approver-keys.js';
import { auditKeyPaths, witnessSettings } from '../guards/audit-config.js';
import { loadPolicy, PolicyLoadError } from '../guards/policy.js';
import { EXIT_FAIL, EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** `day2 config check`: validates day2.yaml without starting anything. */
export const configCheckCommand: Command = {
  usage: `Usage: day2 config check [--config F]

Validates day2.yaml (default ./day2.yaml) and prints every bad field with its path and what was
expected. Exit 0 when valid, 1 otherwise.`,

  // eslint-disable-next-line @typescript-eslint/require-await
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { config: { type: 'string' } });
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const opts = { path: values.config, env: io.env, cwd: io.cwd };
    const result = checkConfig(opts);
    let problems = result.ok ? [] : result.problems;
    if (result.ok) {
      // A policy file and approver key files are documents of their own: check them too, with
      // the same field paths.
      const loaded = loadConfig(opts);
      try {
        const policy = loadPolicy(loaded.config, loaded.baseDir);
        ApproverKeys.load(loaded.config.approvals.keys, loaded.baseDir);
        witnessSettings(loaded, io.env);
        println(io.stdout, `${result.summary}; policy ${policy.version}: ${policy.rules.length} rules`);
        for (const w of auditWarnings(loaded, io.env)) println(io.stderr, `warning: ${w}`);
        return EXIT_OK;
      } catch (err) {
        if (err instanceof ConfigError) problems = err.problems;
        else if (err instanceof PolicyLoadError) problems = err.message.split('\n');
        else throw err;
      }
    }
    println(io.stderr, `${problems.length} problem${problems.length > 1 ? 's' : ''} in the configuration:`);
    for (const p of problems) println(io.stderr, `  ${p}`);
    return EXIT_FAIL;
  },
};

/** Audit settings that work but leave `day2 audit verify` blind to someone who holds the store. */
function auditWarnings(loaded: LoadedConfig, env: NodeJS.ProcessEnv): string[] {
  const keys = auditKeyPaths(loaded, env);
  const out: string[] = [];
  if (keys.besideStore)
    out.push(
      `audit.signing_key_file: the signing key ${keys.signing} sits beside the store, so whoever can rewrite the store can re-sign it; move it to a secret only day2 serve reads (README, "Audit: threat model")`,
    );
  if (!loaded.config.audit.witness)
    out.push(
      'audit.witness: not set; a cut tail or a history re-signed with the key passes day2 audit verify; set a file on another volume, a webhook or another PostgreSQL database',
    );
  if (!loaded.config.audit.verify_key)
    out.push(
      'audit.verify_key: not set; day2 audit verify reads the public half of the private signing key, so it must run where that key is',
    );
  return out;
}
