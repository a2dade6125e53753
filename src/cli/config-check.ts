import { checkConfig, ConfigError, loadConfig } from '../config/load-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import { ApproverKeys } from '../guards/approver-keys.js';
import { auditKeyPaths, witnessSettings } from '../guards/audit-config.js';
import { loadPolicy, PolicyLoadError } from '../guards/policy.js';
import type { Config } from '../config/schema.js';
import { isLoopback } from '../http/host-check.js';
import { PostgresProvider } from '../providers/postgres/postgres-provider.js';
import { telemetrySettings, type TelemetrySettings } from '../config/telemetry-settings.js';
import { EXIT_FAIL, EXIT_OK, parseCommandArgs, println, UsageError, type Command } from './io.js';

/** `day2 config check`: validates day2.yaml without starting anything. */
export const configCheckCommand: Command = {
  usage: `Usage: day2 config check [--config F]

Validates day2.yaml (default ./day2.yaml) and prints every bad field with its path and what was
expected. Exit 0 when valid, 1 otherwise.`,

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
        const oauthProblem = oauthResourceProblem(loaded.config);
        if (oauthProblem) throw new ConfigError([oauthProblem]);
        // OTEL_* variables are configuration too: one day2 cannot use fails the check.
        const otel = telemetrySettings(io.env);
        if (otel.problems.length) throw new ConfigError(otel.problems);
        println(
          io.stdout,
          `${result.summary}; policy ${policy.version}: ${policy.rules.length} rules; ${describeTelemetry(otel.settings)}${describeOAuth(loaded.config)}`,
        );
        for (const w of await superuserWarnings(loaded.config, io.env)) println(io.stderr, `warning: ${w}`);
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

/**
 * Databases whose URL logs in as a superuser: SQL from a model (explain_query) would run with every
 * right unless an explain_role narrows it. PostgreSQL reports is_superuser when a session starts.
 */
async function superuserWarnings(config: Config, env: Record<string, string | undefined>): Promise<string[]> {
  const provider = new PostgresProvider(config, { env, connectTimeoutMs: 2000, poolMax: 1 });
  const warnings: string[] = [];
  try {
    for (const [envName, e] of Object.entries(config.environments)) {
      for (const [name, db] of Object.entries(e.databases)) {
        const field = `environments.${envName}.databases.${name}`;
        try {
          const [row] = await provider.query<{ su: string }>(
            { env: envName, database: name },
            `select current_setting('is_superuser') as su`,
          );
          if (row?.su === 'on')
            warnings.push(
              `${field}: the URL logs in as a superuser; ${db.explain_role ? `explain_query switches to "${db.explain_role}", but every other tool keeps superuser rights` : 'set explain_role (a role with SELECT only) so that SQL from the model does not run as a superuser'}`,
            );
        } catch (err) {
          warnings.push(`${field}: could not check the login's privileges (${(err as Error).message})`);
        }
      }
    }
  } finally {
    await provider.close();
  }
  return warnings;
}

/**
 * OAuth tokens name this server's canonical URI as their audience: off loopback it must be
 * configured (`http.oauth.resource`, or `http.public_url` + /mcp), as `serve --http` requires.
 */
function oauthResourceProblem(config: Config): string | undefined {
  const { oauth, public_url, host } = config.http;
  if (!oauth || oauth.resource || public_url || isLoopback(host)) return undefined;
  return `http.oauth.resource: http.host ${host} is not loopback; set resource (or http.public_url) to the URI clients reach /mcp at, the audience tokens must name`;
}

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

function describeOAuth(config: Config): string {
  const o = config.http.oauth;
  if (!o) return '';
  return `; http oauth: tokens from ${o.issuer} (keys from ${o.jwks_uri ?? 'its metadata'}), principal claim ${o.principal_claim}, scopes ${o.scopes.read} ${o.scopes.write} ${o.scopes.approve}`;
}

function describeTelemetry(s: TelemetrySettings | undefined): string {
  if (!s) return 'telemetry off';
  const to = [s.tracesUrl && `traces to ${s.tracesUrl}`, s.metricsUrl && `metrics to ${s.metricsUrl}`];
  return `telemetry on (service ${s.serviceName}: ${to.filter(Boolean).join(', ')})`;
}
