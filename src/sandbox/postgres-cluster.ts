import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, supervise } from './local-service.js';
import { processReaper } from './reaper.js';

/**
 * A PostgreSQL cluster of the sandbox's own: the real server binaries, initdb into a temporary
 * folder, listening on a free 127.0.0.1 port with scram-sha-256 for every login over TCP, so that
 * a wrong password fails as it does on a real server. The superuser `postgres` connects only
 * through the Unix socket in the cluster's folder (mode 0700): no password exists to leak, and no
 * other local user can reach it.
 */
export interface PostgresCluster {
  /** The port on 127.0.0.1 (scram-sha-256). */
  port: number;
  /** The cluster's folder: its data directory and its socket. */
  dir: string;
  /** Superuser URL over the socket (`?host=<dir>`); carries no password. */
  adminUrl: string;
  /** The postmaster's pid; a restart changes it. */
  readonly pid: number;
  /**
   * Stops the postmaster (fast shutdown: every connection is ended) and starts it again on the
   * same data directory and port; resolves once the superuser can connect. For tests of what
   * clients do across a database restart.
   */
  restart(): Promise<void>;
  /** Stops the server (fast shutdown, then immediate) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries folder (Debian's layout), or undefined. */
export function postgresServerBinDir(root = '/usr/lib/postgresql'): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return undefined;
}

export class PostgresBinariesMissingError extends Error {
  constructor() {
    super(
      'the PostgreSQL server binaries are not installed (no /usr/lib/postgresql/<version>/bin/initdb): run `apt-get install postgresql-15`',
    );
    this.name = 'PostgresBinariesMissingError';
  }
}

/** initdb and the postmaster refuse root: as root they run as the `postgres` OS user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0)
    throw new Error('running as root needs the `postgres` OS user to run PostgreSQL (initdb refuses root)');
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * Clusters started by this process and not yet stopped. The process's `exit` stops them
 * synchronously (immediate shutdown) and removes their folders: a postmaster does not end with
 * its parent. Every other exit path (close, SIGINT, SIGTERM) goes through `stop()`.
 */
const running = new Map<string, () => void>();
let exitHook = false;

/** Whether `pid` is gone or a zombie (Linux /proc; elsewhere, whether a signal reaches it). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

function stopSync(child: ChildProcess, dir: string): void {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // Already gone.
    }
    const until = Date.now() + 3000;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!gone(pid) && Date.now() < until) Atomics.wait(pause, 0, 0, 20);
  }
  rmSync(dir, { recursive: true, force: true });
}

export interface StartPostgresClusterOptions {
  /** Folder to create the cluster's folder in (default the OS temporary folder). */
  parentDir?: string;
  /** Server binaries folder (default the newest under /usr/lib/postgresql). */
  binDir?: string;
  /** How long to wait for the server to accept connections (default 30 s). */
  readyTimeoutMs?: number;
}

/** initdb, a free port, the postmaster; resolves once the superuser can connect. */
export async function startPostgresCluster(opts: StartPostgresClusterOptions = {}): Promise<PostgresCluster> {
  const bin = opts.binDir ?? postgresServerBinDir();
  if (!bin || !existsSync(join(bin, 'initdb'))) throw new PostgresBinariesMissingError();
  const owner = runAs();
  const dir = mkdtempSync(join(opts.parentDir ?? tmpdir(), 'day2-pg-'));
  chmodSync(dir, 0o700);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  // However this process ends (SIGKILL included), the reaper removes the folder and ends the server.
  const forgetDir = processReaper().watchDir(dir);
  const data = join(dir, 'data');
  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  try {
    const init = spawnSync(
      join(bin, 'initdb'),
      [
        '-D',
        data,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--no-sync',
      ],
      { encoding: 'utf8', cwd: dir, ...asOwner },
    );
    if (init.status !== 0)
      throw new Error(`initdb failed: ${(init.stderr || init.stdout).trim().slice(-2000)}`);
    // Only the superuser, and only over the socket in the 0700 folder, is trusted.
    writeFileSync(
      join(data, 'pg_hba.conf'),
      [
        'local all postgres trust',
        'local all all scram-sha-256',
        'host all all 127.0.0.1/32 scram-sha-256',
        '',
      ].join('\n'),
    );
    if (owner) chownSync(join(data, 'pg_hba.conf'), owner.uid, owner.gid);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    forgetDir();
    throw err;
  }

  const libDir = join(bin, '..', 'lib');
  const preload = existsSync(join(libDir, 'pg_stat_statements.so'))
    ? ['-c', 'shared_preload_libraries=pg_stat_statements']
    : [];
  const postmaster = (port: number) => {
    const child = spawn(
      join(bin, 'postgres'),
      [
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
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'shared_buffers=16MB',
        '-c',
        'max_connections=100',
        ...preload,
      ],
      // Its own process group, which the reaper ends with its backends if this process dies first.
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...asOwner },
    );
    supervise(child);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
    child.once('error', (e) => (stderr += e.message));
    return { child, stderr: () => stderr };
  };
  const readyMs = opts.readyTimeoutMs ?? 30_000;
  let lastError: unknown;
  // A free port can be taken before the postmaster binds it: try another one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let { child, stderr } = postmaster(port);
    // Reads `child` when called, so that it stops the postmaster a restart started.
    const stop = () => {
      running.delete(dir);
      stopSync(child, dir);
      forgetDir();
    };
    running.set(dir, stop);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const s of [...running.values()]) s();
      });
    }
    const adminUrl = `postgres://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`;
    try {
      await waitForServer(child, adminUrl, readyMs, stderr);
    } catch (err) {
      lastError = err;
      await stopChild(child);
      running.delete(dir);
      continue;
    }
    let stopping: Promise<void> | undefined;
    let restarting: Promise<void> | undefined;
    return {
      port,
      dir,
      adminUrl,
      get pid() {
        return child.pid ?? -1;
      },
      restart: () =>
        (restarting ??= (async () => {
          if (stopping) throw new Error('the PostgreSQL cluster was stopped');
          await stopChild(child);
          ({ child, stderr } = postmaster(port));
          await waitForServer(child, adminUrl, readyMs, stderr);
        })().finally(() => (restarting = undefined))),
      stop: () =>
        (stopping ??= (async () => {
          await restarting?.catch(() => undefined);
          running.delete(dir);
          await stopChild(child);
          rmSync(dir, { recursive: true, force: true });
          forgetDir();
        })()),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  forgetDir();
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function waitForServer(
  child: ChildProcess,
  adminUrl: string,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`PostgreSQL exited before it accepted connections: ${stderr().trim()}`);
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
    }
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL did not accept connections within ${timeoutMs} ms: ${stderr().trim()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Fast shutdown (SIGINT), then immediate (SIGQUIT) after 5 s, then SIGKILL; resolves on exit. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const quit = setTimeout(() => child.kill('SIGQUIT'), 5000);
  const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(quit);
  clearTimeout(kill);
}
