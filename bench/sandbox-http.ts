/**
 * HTTP against the sandbox: calls/s, p50 and p99 of get_service, list_alerts and triage_service
 * on `day2 serve --sandbox --http` (the emulators in the `day2 sandbox` child process), beside
 * the same calls on a server whose emulators share its process (bench/in-process-sandbox.ts), as
 * the sandbox ran before it became its own process. Both from dist/, one at a time, alternated
 * twice (A B A B) with the means reported: the machine is shared, so the ratio is the figure.
 * The load comes from this process with fetch (it shares the two cores with both servers alike).
 * Also: each server's RSS after its load. PostgreSQL seeding is off in both.
 *
 *   tsx bench/sandbox-http.ts [fleet]     (npm run build first; bench/run.ts runs it as sandbox-http)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fetchRun, type HttpLoad, type LoadResult } from './http-load.js';
import { round } from './stats.js';
import type * as LoadFleet from '../src/sandbox/load-fleet.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
const fleetArg = process.argv[2] ? resolve(process.argv[2]) : undefined;
const SESSIONS = 8;
const WARM_S = 2;
const SECONDS = 8;
const work = mkdtempSync(join(tmpdir(), 'day2-bench-sandbox-http-'));
const baseEnv = { ...process.env, DAY2_SANDBOX_POSTGRES: 'off', DAY2_LOG_LEVEL: 'warn' };

// The calls' subject, from the fleet itself: a production-tier environment and a service with a
// workload there (any fleet, not only the demo one).
const { loadFleet, builtinFleetPath } = (await import(
  join(REPO, 'dist', 'src', 'sandbox', 'load-fleet.js')
)) as typeof LoadFleet;
const loaded = await loadFleet(fleetArg ?? builtinFleetPath());
const envs = Object.entries(loaded.fleet.environments);
const env = (envs.find(([, e]) => e.tier === 'production') ?? envs[0]!)[0];
const service = loaded.catalog.services().find((s) => loaded.catalog.workloadFor(s.id, env))!.id;
const CALLS: [string, Record<string, unknown>][] = [
  ['get_service', { service, env }],
  ['list_alerts', { env }],
  ['triage_service', { service, env }],
];

interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    return exited;
  };
}

async function healthy(base: string, child: ChildProcess, err: () => string): Promise<void> {
  for (const deadline = Date.now() + 120_000; ;) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${err().slice(-600)}`);
    if (Date.now() > deadline) throw new Error(`the server did not get ready: ${err().slice(-600)}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
}

/** `day2 serve --sandbox --http`: the sandbox a child process of the server. */
async function sandboxProcess(): Promise<Server> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--sandbox', '--http', '--port', String(port), ...(fleetArg ? ['--fleet', fleetArg] : [])],
    { env: { ...baseEnv, DAY2_STORE: join(work, `p-${port}.db`) }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const base = `http://127.0.0.1:${port}`;
  await healthy(base, child, () => err);
  return { url: `${base}/mcp`, pid: child.pid!, stop: stopper(child) };
}

/** The emulators and the server in one process. */
async function inProcess(): Promise<Server> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'bench', 'in-process-sandbox.ts'),
      String(port),
      ...(fleetArg ? [fleetArg] : []),
    ],
    { env: baseEnv, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const url = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.startsWith('{"ready":true')) res((JSON.parse(l) as { url: string }).url);
    });
    child.once('exit', (c) => rej(new Error(`the in-process sandbox exited (${c}): ${err.slice(-600)}`)));
  });
  await healthy(new URL(url).origin, child, () => err);
  return { url, pid: child.pid!, stop: stopper(child) };
}

function loadOf(url: string, name: string, args: Record<string, unknown>): HttpLoad {
  return {
    url,
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
    sessions: SESSIONS,
    seconds: SECONDS,
  };
}

type Mode = 'sandbox process' | 'in-process';
const runs: { mode: Mode; tool: string; result: LoadResult; rss: number }[] = [];

async function measure(mode: Mode): Promise<void> {
  const server = await (mode === 'sandbox process' ? sandboxProcess() : inProcess());
  try {
    for (const [name, args] of CALLS) {
      const load = loadOf(server.url, name, args);
      // One real call first, checked: the load counts statuses and isError, not what was said.
      // The first call of a server loads the SDKs it needs: it may take a few seconds.
      let probe: { result?: { isError?: boolean } } = {};
      for (let attempt = 0; attempt < 3 && !(probe.result && !probe.result.isError); attempt++)
        probe = (await (
          await fetch(load.url, { method: 'POST', headers: load.headers, body: load.body })
        ).json()) as typeof probe;
      if (!probe.result || probe.result.isError)
        throw new Error(`${mode}: ${name} failed: ${JSON.stringify(probe).slice(0, 400)}`);
      await fetchRun(load, WARM_S, undefined);
      const result = await fetchRun(load, SECONDS, undefined);
      runs.push({ mode, tool: name, result, rss: rssMb(server.pid) });
    }
  } finally {
    await server.stop();
  }
}

try {
  for (let round_ = 0; round_ < 2; round_++) {
    await measure('sandbox process');
    await measure('in-process');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `  HTTP on the sandbox (${loaded.fleet.name ?? 'fleet'}, ${env}, service ${service}): ${SESSIONS} sessions flat out, ${SECONDS} s per tool, means of 2 alternated runs`,
);
for (const [name] of CALLS) {
  const of = (mode: Mode) => runs.filter((r) => r.mode === mode && r.tool === name);
  const figures = (mode: Mode) => {
    const rs = of(mode);
    return {
      cps: mean(rs.map((r) => r.result.calls_per_s)),
      p50: mean(rs.map((r) => r.result.p50_ms)),
      p99: mean(rs.map((r) => r.result.p99_ms)),
      errors: rs.reduce((a, r) => a + r.result.errors, 0),
    };
  };
  const p = figures('sandbox process');
  const i = figures('in-process');
  console.log(
    `  ${name}: sandbox process ${round(p.cps, 0)} calls/s, p50 ${round(p.p50, 1)} ms, p99 ${round(p.p99, 1)} ms, ${p.errors} errors` +
      ` | in-process ${round(i.cps, 0)} calls/s, p50 ${round(i.p50, 1)} ms, p99 ${round(i.p99, 1)} ms, ${i.errors} errors` +
      ` | ratio ${round(p.cps / i.cps, 2)}`,
  );
}
const rssAfter = (mode: Mode) =>
  round(mean(runs.filter((r) => r.mode === mode && r.tool === CALLS.at(-1)![0]).map((r) => r.rss)), 1);
console.log(
  `  RSS after the load: day2 server (sandbox process mode) ${rssAfter('sandbox process')} MB; server and emulators in one process ${rssAfter('in-process')} MB`,
);
