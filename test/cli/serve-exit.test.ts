import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandLine, descendants, running } from '../fixtures/process-tree.js';
import { REPO } from '../fixtures/test-env.js';
import { postgresServerBinDir } from '../../src/sandbox/postgres-cluster.js';

/**
 * Nothing left behind: `day2 serve --sandbox` is ended each way its parent can end it, and 5 s
 * later no process it started is running and no folder it made is left. The server's TMPDIR is a
 * folder of this test's, so every temporary folder of the whole tree is found by path.
 */
const work = mkdtempSync(join(tmpdir(), 'day2-exit-test-'));
// Run as root, the sandbox's PostgreSQL runs as the postgres user, who must reach its folder.
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Started {
  server: ChildProcess;
  tmp: string;
  stderr(): string;
}

async function startServer(name: string): Promise<Started> {
  const tmp = join(work, name, 'tmp');
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  chmodSync(join(work, name), 0o755);
  chmodSync(tmp, 0o755);
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--sandbox'], {
    cwd: REPO,
    env: {
      ...process.env,
      TMPDIR: tmp,
      DAY2_STORE: join(work, name, 'day2.db'),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  server.stdout.resume();
  const deadline = Date.now() + 60_000;
  while (!stderr.includes('backends ready')) {
    if (server.exitCode !== null) throw new Error(`serve exited (${server.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error(`serve was not ready within 60 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { server, tmp, stderr: () => stderr };
}

/** The tree's own folders: tsx's and Node's compile caches, which outlive any one run by design, are not. */
const ownFolders = (tmp: string) =>
  readdirSync(tmp).filter((f) => !f.startsWith('tsx-') && f !== 'node-compile-cache');

/** Polls for up to 5 s until nothing of `pids` runs and `tmp` is empty; returns what is left. */
async function leftAfter5s(pids: number[], tmp: string): Promise<{ processes: string[]; folders: string[] }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const processes = pids.filter(running).map((p) => `${p} ${commandLine(p)}`);
    const folders = ownFolders(tmp);
    if ((processes.length === 0 && folders.length === 0) || Date.now() >= deadline)
      return { processes, folders };
    await new Promise((r) => setTimeout(r, 100));
  }
}

const endings: [string, (server: ChildProcess) => void][] = [
  ['its stdin closes', (s) => s.stdin!.end()],
  ['SIGINT', (s) => s.kill('SIGINT')],
  ['SIGTERM', (s) => s.kill('SIGTERM')],
  ['SIGKILL', (s) => s.kill('SIGKILL')],
];

describe('serve --sandbox leaves nothing behind', () => {
  it.each(endings)('when %s', { timeout: 90_000 }, async (name, end) => {
    const { server, tmp } = await startServer(name.replace(/\W+/g, '-'));
    const tree = descendants(server.pid!);
    const commands = tree.map(commandLine).join('\n');
    // The real binaries the sandbox runs, and the folders they work in, are there to be left behind.
    expect(commands).toContain('prometheus-alertmanager');
    expect(commands).toContain('docker-registry');
    const folders = ownFolders(tmp).join(' ');
    expect(folders).toContain('day2-alertmanager-');
    expect(folders).toContain('day2-registry-');
    // The sandbox runs a PostgreSQL cluster of its own: the server binaries are there (npm test's
    // scripts/provision installs them), so its processes and folder must go too.
    expect(postgresServerBinDir(), 'PostgreSQL server binaries: run scripts/provision').toBeTruthy();
    expect(commands).toMatch(/postgres -D /);
    expect(folders).toContain('day2-pg-');

    const exited = new Promise<void>((r) => server.once('exit', () => r()));
    end(server);
    // What it started is gone 5 s later; the server itself may take longer to finish its shutdown.
    const left = await leftAfter5s(tree, tmp);
    expect(left).toEqual({ processes: [], folders: [] });
    await exited;
  });
});

describe('serve --sandbox without its sandbox', () => {
  it('says so and stops when the sandbox process dies, leaving nothing', { timeout: 90_000 }, async () => {
    const started = await startServer('sandbox-dies');
    const { server, tmp } = started;
    const tree = descendants(server.pid!);
    const sandbox = tree.find((p) => commandLine(p).includes(' sandbox --watch-stdin'));
    expect(sandbox, tree.map(commandLine).join('\n')).toBeDefined();
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    process.kill(sandbox!, 'SIGKILL');
    expect(await exited).toBe(1);
    expect(started.stderr()).toMatch(
      /the sandbox process ended \(killed by SIGKILL\); its backends are gone, stopping/,
    );
    const left = await leftAfter5s(tree, tmp);
    expect(left).toEqual({ processes: [], folders: [] });
  });
});
