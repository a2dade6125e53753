import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A private PostgreSQL server for rotation tests: the real binaries, on a free 127.0.0.1 port,
 * with password (SCRAM) authentication for every role except the `postgres` superuser. The
 * shared server on :5432 trusts every login, so it could not show that an old password fails.
 */
export interface PrivatePostgres {
  port: number;
  /** Admin URL (user postgres, trusted on loopback). */
  adminUrl: string;
  stop(): Promise<void>;
}

/** The PostgreSQL server binaries folder, or undefined when they are not installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Clusters this process started and has not stopped. A test process that ends without stopping
 * one (a beforeAll that timed out while the server was still starting, a worker that exits) stops
 * it on the way out: a postmaster does not end with its parent, and would be left behind.
 */
const running = new Map<string, () => void>();
let exitHookInstalled = false;
function stopOnExit(dir: string, stopSync: () => void): void {
  running.set(dir, stopSync);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const stop of running.values()) stop();
  });
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries are not installed');
  const dir = mkdtempSync(join(tmpdir(), 'day2-pg-'));
  const data = join(dir, 'data');
  // initdb refuses to run as root: run the server as the postgres OS user then.
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres']).stdout.toString().trim();
    const gid = spawnSync('id', ['-g', 'postgres']).stdout.toString().trim();
    chownSync(dir, Number(id), Number(gid));
  }
  const [initCmd, initArgs] = wrap(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  writeFileSync(
    join(data, 'pg_hba.conf'),
    [
      'local all all trust',
      'host all postgres 127.0.0.1/32 trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const [cmd, args] = wrap(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'max_connections=200',
  ]);
  const proc: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // runuser does not pass signals on: pg_ctl stops the postmaster itself.
  const stopSync = () => {
    if (proc.exitCode === null) {
      const [stopCmd, stopArgs] = wrap(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']);
      spawnSync(stopCmd, stopArgs, { stdio: 'ignore', timeout: 15_000 });
    }
    rmSync(dir, { recursive: true, force: true });
    running.delete(dir);
  };
  stopOnExit(dir, stopSync);
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline || proc.exitCode !== null) {
        // A server that did not answer in time may still be starting: stop it, leave nothing.
        stopSync();
        throw new Error(`PostgreSQL did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    adminUrl,
    async stop() {
      const exited = proc.exitCode === null ? new Promise((r) => proc.once('exit', r)) : Promise.resolve();
      stopSync();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}
