/**
 * The sandbox as its own process (dist/, no tsx): how long `day2 sandbox` takes to be ready, the
 * resident set of its whole process tree, and the day2 server's resident set in sandbox mode
 * (`serve --sandbox`, the sandbox a child) beside production mode (`serve --config` with the
 * day2.yaml the sandbox wrote: the same backends, reached the same way). Each server is measured
 * 3 s after its backends are ready (SDKs loaded, start-up memory released), with no call made.
 * PostgreSQL seeding is off: it would reset the shared server's roles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { descendants } from '../test/fixtures/process-tree.js';
import { parseEnvFile } from '../src/sandbox/sandbox-process.js';
import { INITIALIZE_LINE } from './spawn-stdio.js';
import { median, round } from './stats.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'day2-bench-sandbox-'));
const env = { ...process.env, DAY2_SANDBOX_POSTGRES: 'off', DAY2_LOG_LEVEL: 'warn' };
const IDLE_MS = 3000;

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}
const treeMb = (root: number) => [root, ...descendants(root)].reduce((sum, p) => sum + (rssMb(p) || 0), 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  return exited;
}

/** `day2 sandbox --dir`: start time to its ready line, tree RSS once settled. */
async function sandboxAlone(i: number) {
  const dir = join(work, `sandbox-${i}`);
  const started = performance.now();
  // --watch-stdin: should this bench die, the sandbox goes with it.
  const child = spawn(process.execPath, [CLI, 'sandbox', '--watch-stdin', '--dir', dir], {
    env,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const ready = await new Promise<{ config: string; env: string }>((res, rej) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.startsWith('{"ready":true')) res(JSON.parse(l) as { config: string; env: string });
    });
    child.once('exit', (c) => rej(new Error(`day2 sandbox exited (${c}) before it was ready`)));
  });
  const startMs = performance.now() - started;
  await sleep(IDLE_MS);
  return { child, ready, startMs, treeMb: treeMb(child.pid!) };
}

/** A day2 server on stdio: initialize, wait for "backends ready", idle, resident set. */
async function server(args: string[], extraEnv: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...env, ...extraEnv, DAY2_STORE: join(work, `store-${Math.random()}.db`), DAY2_LOG_LEVEL: 'info' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout.resume();
  child.stdin.write(INITIALIZE_LINE);
  const deadline = Date.now() + 120_000;
  while (!err.includes('backends ready')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`serve did not get ready: ${err.slice(-800)}`);
    await sleep(50);
  }
  await sleep(IDLE_MS);
  const out = { serverMb: rssMb(child.pid!), belowMb: treeMb(child.pid!) - rssMb(child.pid!) };
  child.stdin.end();
  await stop(child);
  return out;
}

const samples: {
  startMs: number;
  treeMb: number;
  production: number;
  sandbox: number;
  sandboxTree: number;
}[] = [];
try {
  for (let i = 0; i < 3; i++) {
    const alone = await sandboxAlone(i);
    const production = await server(
      ['serve', '--config', alone.ready.config],
      parseEnvFile(readFileSync(alone.ready.env, 'utf8')),
    );
    await stop(alone.child);
    const sandboxMode = await server(['serve', '--sandbox'], {});
    samples.push({
      startMs: alone.startMs,
      treeMb: alone.treeMb,
      production: production.serverMb,
      sandbox: sandboxMode.serverMb,
      sandboxTree: sandboxMode.belowMb,
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const m = (f: (s: (typeof samples)[number]) => number) => round(median(samples.map(f)), 1);
const line = (what: string, value: string, target?: string, pass?: boolean) =>
  console.log(`  ${what}: ${value}${target ? ` (target ${target}: ${pass ? 'pass' : 'FAIL'})` : ''}`);
line('day2 sandbox: start → ready (median of 3)', `${m((s) => s.startMs)} ms`);
line(
  'day2 sandbox: process tree RSS after start',
  `${m((s) => s.treeMb)} MB`,
  '<= 200 MB',
  m((s) => s.treeMb) <= 200,
);
line(
  'serve --sandbox: server RSS, backends ready + 3 s',
  `${m((s) => s.sandbox)} MB`,
  '<= 90 MB',
  m((s) => s.sandbox) <= 90,
);
line('serve --config <the sandbox day2.yaml>: server RSS, same moment', `${m((s) => s.production)} MB`);
line(
  'serve --sandbox: its sandbox tree RSS',
  `${m((s) => s.sandboxTree)} MB`,
  '<= 200 MB',
  m((s) => s.sandboxTree) <= 200,
);
