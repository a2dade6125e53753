import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../core/log.js';
import type { Fleet } from './fleet-schema.js';
import {
  PostgresBinariesMissingError,
  postgresServerBinDir,
  startPostgresCluster,
  type PostgresCluster,
} from './postgres-cluster.js';
import {
  DEFAULT_SANDBOX_POSTGRES,
  dropPrefixed,
  placeFleetDatabases,
  redactUrl,
  SANDBOX_EXPLAIN_ROLE,
  seedPostgres,
  type PostgresSeedResult,
} from './seed/postgres.js';

/** The sandbox's PostgreSQL: where the fleet's databases and roles are, and how to leave. */
export interface SandboxPostgres extends PostgresSeedResult {
  /** Superuser URL the sandbox's providers connect with; it carries no password. */
  adminUrl: string;
  /** Where the fleet's logins go: the host and port its database secrets name. */
  host: string;
  port: number;
  /** What every database and role name starts with: '' on the sandbox's own cluster. */
  prefix: string;
  /** The explain_query role, prefixed like the rest. */
  explainRole: string;
  /** True when the sandbox runs its own cluster (scram-sha-256 on a free loopback port). */
  ownCluster: boolean;
  /** The fleet with its databases and credentials placed on this server. */
  fleet: Fleet;
  /** Stops the own cluster (its folder removed), or drops this sandbox's databases and roles. */
  close(): Promise<void>;
}

export interface StartSandboxPostgresOptions {
  /**
   * A server to put the fleet on (a shared one: names get a per-sandbox prefix and only the
   * sandbox's own roles are ever changed). Default: a cluster of the sandbox's own when the server
   * binaries are installed, else the shared server on 127.0.0.1:5432.
   */
  url?: string;
  /** Folder the own cluster's folder is made in (default the OS temporary folder). */
  parentDir?: string;
  log: Logger;
}

/** `day2sbx_<pid>_<random>_`: the pid lets a later sandbox on this machine tell a leftover. */
function sandboxPrefix(): string {
  return `day2sbx_${process.pid.toString(36)}_${randomBytes(3).toString('hex')}_`;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Drops what sandboxes on this machine left on a loopback server when they were killed before
 * they could clean up: names whose prefix carries the pid of a process that no longer runs.
 */
async function dropLeftovers(url: string, log: Logger): Promise<void> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    const names = await admin.query<{ name: string }>(
      String.raw`SELECT rolname AS name FROM pg_roles WHERE rolname ~ '^day2sbx_[0-9a-z]+_[0-9a-f]{6}_'
       UNION SELECT datname FROM pg_database WHERE datname ~ '^day2sbx_[0-9a-z]+_[0-9a-f]{6}_'`,
    );
    await admin.end();
    const prefixes = new Set(names.rows.map((r) => /^day2sbx_[0-9a-z]+_[0-9a-f]{6}_/.exec(r.name)![0]));
    for (const prefix of prefixes) {
      const pid = parseInt(prefix.split('_')[1]!, 36);
      if (alive(pid)) continue;
      await dropPrefixed(url, prefix);
      log.info(`sandbox: dropped the databases and roles a stopped sandbox left (prefix ${prefix})`);
    }
  } catch (err) {
    await admin.end().catch(() => undefined);
    log.warn('sandbox: could not look for databases and roles that stopped sandboxes left', { error: err });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Puts the fleet's databases and roles on PostgreSQL. Resolves to undefined when no server could
 * be had (the sandbox then has no databases); the reason is logged.
 */
export async function startSandboxPostgres(
  fleet: Fleet,
  opts: StartSandboxPostgresOptions,
): Promise<SandboxPostgres | undefined> {
  const { log } = opts;
  if (opts.url === undefined && postgresServerBinDir()) {
    let cluster: PostgresCluster | undefined;
    try {
      cluster = await startPostgresCluster({ parentDir: opts.parentDir });
      const placed = placeFleetDatabases(fleet, { host: '127.0.0.1', port: cluster.port, prefix: '' });
      const seed = await seedPostgres(placed, { url: cluster.adminUrl, log, connectTimeoutMs: 5000 });
      if (!seed.ok) throw new Error(seed.notes.join('; '));
      const own = cluster;
      return {
        ...seed,
        adminUrl: own.adminUrl,
        host: '127.0.0.1',
        port: own.port,
        prefix: '',
        explainRole: SANDBOX_EXPLAIN_ROLE,
        ownCluster: true,
        fleet: placed,
        close: () => own.stop(),
      };
    } catch (err) {
      await cluster?.stop();
      log.warn('sandbox: could not run a PostgreSQL cluster of its own; using the shared server', {
        error: err instanceof PostgresBinariesMissingError ? err.message : err,
      });
    }
  }
  const url = opts.url ?? DEFAULT_SANDBOX_POSTGRES;
  const server = new URL(url);
  const prefix = sandboxPrefix();
  const placed = placeFleetDatabases(fleet, {
    host: decodeURIComponent(server.hostname) || '127.0.0.1',
    port: Number(server.port || 5432),
    prefix,
  });
  const explainRole = prefix + SANDBOX_EXPLAIN_ROLE;
  if (LOOPBACK.has(server.hostname)) await dropLeftovers(url, log);
  const seed = await seedPostgres(placed, { url, log, explainRole }).catch(async (err: unknown) => {
    await dropPrefixed(url, prefix).catch(() => undefined);
    throw err;
  });
  if (!seed.ok) {
    for (const n of seed.notes) log.warn(`sandbox: ${n}`);
    return undefined;
  }
  log.info(`sandbox: the fleet's databases and roles are on ${redactUrl(url)} under the prefix ${prefix}`);
  let closing: Promise<void> | undefined;
  return {
    ...seed,
    adminUrl: url,
    host: decodeURIComponent(server.hostname) || '127.0.0.1',
    port: Number(server.port || 5432),
    prefix,
    explainRole,
    ownCluster: false,
    fleet: placed,
    close: () =>
      (closing ??= dropPrefixed(url, prefix).catch((err: unknown) =>
        log.warn(`sandbox: could not drop its databases and roles (prefix ${prefix})`, { error: err }),
      )),
  };
}
