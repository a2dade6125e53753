import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import { loadFleet } from '../../src/sandbox/load-fleet.js';
import type { Fleet } from '../../src/sandbox/fleet-schema.js';
import { startPostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { startSandboxPostgres } from '../../src/sandbox/sandbox-postgres.js';
import { DEFAULT_SANDBOX_POSTGRES, seedPostgres } from '../../src/sandbox/seed/postgres.js';
import { REPO } from '../fixtures/test-env.js';

/**
 * The sandbox's PostgreSQL: a cluster of its own (scram-sha-256, gone with the sandbox) when the
 * server binaries exist, else a per-sandbox prefix on the shared server, where it never changes a
 * role it did not create.
 */

const MINI = fileURLToPath(new URL('../fixtures/fleets/mini.yaml', import.meta.url));
const lines: string[] = [];
const log = createLogger({ redactor: new Redactor(), sink: (l) => lines.push(l), level: 'info' });
let fleet: Fleet;

beforeAll(async () => {
  fleet = (await loadFleet(MINI)).fleet;
});

async function query<R extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []) {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

async function logsIn(port: number, user: string, password: string, database: string): Promise<string> {
  const c = new pg.Client({
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    connectionTimeoutMillis: 5000,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await c.end().catch(() => undefined);
  }
}

function running(pid: number): boolean {
  const ps = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.status === 0 && !ps.stdout.trim().startsWith('Z');
}

describe("the sandbox's own cluster", () => {
  it('checks passwords with scram-sha-256, trusts only the superuser over its socket, and leaves nothing on stop', async () => {
    const server = await startSandboxPostgres(fleet, { log });
    expect(server?.ownCluster).toBe(true);
    const s = server!;
    const dir = new URL(s.adminUrl).searchParams.get('host')!;
    try {
      expect(existsSync(dir)).toBe(true);
      expect(s.prefix).toBe('');
      const secret = s.fleet.environments.prod!.secrets.aws.find((x) => x.name === 'prod/ledger/db')!;
      const value = secret.value as { username: string; password: string; dbname: string; port: number };
      expect(value.port).toBe(s.port);
      expect(await logsIn(s.port, value.username, value.password, value.dbname)).toBe('ok');
      expect(await logsIn(s.port, value.username, 'not-the-password', value.dbname)).toBe('28P01');
      // The superuser has no password, and over TCP it needs one.
      expect(await logsIn(s.port, 'postgres', '', 'postgres')).not.toBe('ok');
      const [row] = await query<{ preload: string }>(
        s.adminUrl,
        "SELECT current_setting('shared_preload_libraries') AS preload",
      );
      expect(row?.preload).toContain('pg_stat_statements');
    } finally {
      await s.close();
    }
    expect(existsSync(dir)).toBe(false);
    expect(await logsIn(s.port, 'postgres', '', 'postgres')).toMatch(/ECONNREFUSED/);
  });

  it('is stopped and removed when the process that started it exits without stopping it', async () => {
    const script = [
      "import { startPostgresCluster } from './src/sandbox/postgres-cluster.ts';",
      'const c = await startPostgresCluster();',
      'process.stdout.write(JSON.stringify({ dir: c.dir, pid: c.pid }) + "\\n");',
      'process.exit(0);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code, err).toBe(0);
    const { dir, pid } = JSON.parse(out) as { dir: string; pid: number };
    expect(existsSync(dir)).toBe(false);
    expect(running(pid)).toBe(false);
  }, 60_000);

  it('starts two at once on different ports and folders', async () => {
    const [a, b] = await Promise.all([startPostgresCluster(), startPostgresCluster()]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(a.dir).not.toBe(b.dir);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('the shared server (no server binaries, or a server named)', () => {
  const SHARED = DEFAULT_SANDBOX_POSTGRES;
  const OUTSIDER = 'day2_test_outsider_role';

  beforeAll(async () => {
    await query(SHARED, `DROP ROLE IF EXISTS ${OUTSIDER}`);
  });
  afterAll(async () => {
    await query(SHARED, `DROP ROLE IF EXISTS ${OUTSIDER}`);
  });

  it('puts the fleet under a prefix of its own and drops it on close', async () => {
    const s = (await startSandboxPostgres(fleet, { url: SHARED, log }))!;
    expect(s.ownCluster).toBe(false);
    expect(s.prefix).toMatch(/^day2sbx_[0-9a-z]+_[0-9a-f]{6}_$/);
    const secret = s.fleet.environments.prod!.secrets.aws.find((x) => x.name === 'prod/ledger/db')!;
    const value = secret.value as { username: string; dbname: string; port: number };
    expect(value.username).toBe(`${s.prefix}mini_ledger_app`);
    expect(value.dbname).toBe(`${s.prefix}mini_ledger_prod`);
    expect(value.port).toBe(5432);
    const mine = async () =>
      (
        await query<{ name: string }>(
          SHARED,
          `SELECT rolname AS name FROM pg_roles WHERE starts_with(rolname, $1)
           UNION ALL SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
          [s.prefix],
        )
      ).map((r) => r.name);
    expect(await mine()).toEqual(
      expect.arrayContaining([value.username, value.dbname, `${s.prefix}day2_explain`]),
    );
    await s.close();
    expect(await mine()).toEqual([]);
  });

  it('never changes a role it did not create', async () => {
    await query(SHARED, `CREATE ROLE ${OUTSIDER} LOGIN PASSWORD 'outsider-password' CREATEDB`);
    const before = await query<{ hash: string }>(
      SHARED,
      `SELECT rolpassword AS hash, rolcreatedb::text AS c FROM pg_authid WHERE rolname = $1`,
      [OUTSIDER],
    );
    const env = fleet.environments.prod!;
    const secret = env.secrets.aws.find((x) => x.name === 'prod/ledger/db')!;
    const taken: Fleet = {
      ...fleet,
      environments: {
        prod: {
          ...env,
          databases: {
            ledger: { ...env.databases.ledger!, database: 'day2_test_outsider_db', owner_role: undefined },
          },
          secrets: {
            ...env.secrets,
            aws: [
              {
                ...secret,
                value: { ...(secret.value as object), username: OUTSIDER, dbname: 'day2_test_outsider_db' },
              },
            ],
          },
        },
      },
    };
    const result = await seedPostgres(taken, { url: SHARED, log, explainRole: 'day2_test_outsider_explain' });
    try {
      expect(result.ok).toBe(true);
      expect(result.roles).not.toContain(OUTSIDER);
      expect(result.notes.join(' ')).toMatch(/day2_test_outsider_role already exist.*left unchanged/);
      const after = await query<{ hash: string }>(
        SHARED,
        `SELECT rolpassword AS hash, rolcreatedb::text AS c FROM pg_authid WHERE rolname = $1`,
        [OUTSIDER],
      );
      expect(after).toEqual(before);
    } finally {
      await query(SHARED, 'DROP DATABASE IF EXISTS day2_test_outsider_db WITH (FORCE)');
      await query(SHARED, 'DROP ROLE IF EXISTS day2_test_outsider_explain');
    }
  });

  it('drops what a killed sandbox on this machine left, and nothing of a live one', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const leftover = `day2sbx_${Number(dead.stdout).toString(36)}_abcdef_`;
    const live = `day2sbx_${process.pid.toString(36)}_fedcba_`;
    await query(SHARED, `CREATE ROLE ${leftover}app NOLOGIN`);
    await query(SHARED, `CREATE ROLE ${live}app NOLOGIN`);
    try {
      const s = (await startSandboxPostgres(fleet, { url: SHARED, log }))!;
      await s.close();
      const names = (
        await query<{ r: string }>(SHARED, 'SELECT rolname AS r FROM pg_roles WHERE rolname = ANY($1)', [
          [`${leftover}app`, `${live}app`],
        ])
      ).map((x) => x.r);
      expect(names).toEqual([`${live}app`]);
    } finally {
      await query(SHARED, `DROP ROLE IF EXISTS ${leftover}app`);
      await query(SHARED, `DROP ROLE IF EXISTS ${live}app`);
    }
  });
});
