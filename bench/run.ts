/**
 * day2 benchmarks: `npm run bench` (builds first, then runs this with tsx). Prints a table, writes
 * bench/results.json and reports each figure against its target. Timings are for this machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { buildRuntime } from '../src/server/build-runtime.js';
import { loadConfig } from '../src/config/load-config.js';
import { createServer } from '../src/server/create-server.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import type { Backends } from '../src/providers/backends.js';
import { allTools } from '../src/tools/index.js';
import { benchTools, echoWork, writeBenchConfig } from './bench-tools.js';
import { IDLE_MS, spawnInitialize } from './spawn-stdio.js';
import { median, percentile, round } from './stats.js';
import { fetchRun, type HttpLoad, type LoadResult } from './http-load.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'day2-bench-'));
const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };
const rows: { what: string; value: string; target: string; pass?: boolean }[] = [];
const row = (what: string, value: string, target = '', pass?: boolean) => {
  rows.push({ what, value, target, pass });
  process.stderr.write(
    `  ${what}: ${value}${target ? ` (target ${target}: ${pass ? 'pass' : 'FAIL'})` : ''}\n`,
  );
};

async function stdioSpawn(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const cwd = join(work, 'spawn');
  execFileSync('mkdir', ['-p', cwd]);
  const env = { ...process.env, DAY2_STORE: join(cwd, 'day2.db'), DAY2_LOG_LEVEL: 'warn' };
  await spawnInitialize(process.execPath, [CLI, 'serve'], { cwd, env }); // creates the store and key once
  const samples = [];
  for (let i = 0; i < 10; i++)
    samples.push(await spawnInitialize(process.execPath, [CLI, 'serve'], { cwd, env }));
  const ms = median(samples.map((s) => s.ms));
  const rss = median(samples.map((s) => s.rssMb));
  const early = median(samples.map((s) => s.rssEarlyMb));
  results.stdio = {
    spawn_to_initialize_ms_median: round(ms),
    idle_rss_mb: round(rss, 1),
    rss_300ms_after_initialize_mb: round(early, 1),
    samples: samples.map((s) => round(s.ms)),
  };
  row('day2: spawn → initialize (median of 10, dist/, no tsx)', `${round(ms, 1)} ms`, '<= 300 ms', ms <= 300);
  row(`day2: idle RSS (${IDLE_MS / 1000} s after initialize)`, `${round(rss, 1)} MB`, '<= 90 MB', rss <= 90);
  row('day2: RSS 300 ms after initialize', `${round(early, 1)} MB`);
}

/** Installs a peer MCP server into a temporary folder with npm and measures it the same way. */
async function peer(pkg: string, binName: string, args: string[]): Promise<void> {
  const dir = join(work, `peer-${binName}`);
  try {
    execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', pkg], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 240_000,
    });
    const pkgJson = JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version: string;
      bin?: string | Record<string, string>;
    };
    const bin =
      typeof pkgJson.bin === 'string'
        ? pkgJson.bin
        : (pkgJson.bin?.[binName] ?? Object.values(pkgJson.bin ?? {})[0]);
    if (!bin) throw new Error('the package declares no bin');
    const entry = join(dir, 'node_modules', pkg, bin);
    const samples = [];
    for (let i = 0; i < 10; i++)
      samples.push(await spawnInitialize(process.execPath, [entry, ...args], { cwd: dir, env: process.env }));
    const ms = median(samples.map((s) => s.ms));
    const rss = median(samples.map((s) => s.rssMb));
    const early = median(samples.map((s) => s.rssEarlyMb));
    results[`peer:${pkg}`] = {
      version: pkgJson.version,
      spawn_to_initialize_ms_median: round(ms),
      idle_rss_mb: round(rss, 1),
      rss_300ms_after_initialize_mb: round(early, 1),
    };
    row(`peer ${pkg}@${pkgJson.version}: spawn → initialize`, `${round(ms, 1)} ms`);
    row(
      `peer ${pkg}@${pkgJson.version}: idle RSS / 300 ms after`,
      `${round(rss, 1)} / ${round(early, 1)} MB`,
    );
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    results[`peer:${pkg}`] = { error: why };
    row(`peer ${pkg}`, `not measured: ${why}`);
  }
}

async function timeCalls(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  n: number,
): Promise<number[]> {
  for (let i = 0; i < 50; i++) await client.callTool({ name, arguments: args });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await client.callTool({ name, arguments: args });
    out.push(performance.now() - t0);
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
  }
  return out;
}

async function governedOverhead(): Promise<void> {
  const dir = join(work, 'overhead');
  execFileSync('mkdir', ['-p', dir]);
  const loaded = loadConfig({ path: writeBenchConfig(dir), env: { DAY2_STORE: join(dir, 'day2.db') } });
  const rt = await buildRuntime({
    loaded,
    log: silentLogger,
    redactor: new Redactor(),
    env: process.env,
    backends: {} as Backends,
    tools: [...allTools, ...benchTools],
  });

  const bare = new McpServer({ name: 'bare', version: '1' });
  bare.registerTool(
    'echo',
    {
      description: 'echo',
      inputSchema: { text: z.string() },
      outputSchema: { echoed: z.string(), length: z.number() },
    },
    ({ text }) => {
      const o = echoWork(text);
      return { content: [{ type: 'text', text: o.echoed }], structuredContent: o };
    },
  );
  const connect = async (server: { connect(t: InMemoryTransport): Promise<void> }) => {
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const c = new Client({ name: 'bench', version: '1' });
    await c.connect(b);
    return c;
  };
  const bareClient = await connect(bare);
  const govClient = await connect(createServer(rt, { principal: { id: 'bench', transport: 'stdio' } }));
  const text = 'hello day2';
  const n = 2000;
  const base = await timeCalls(bareClient, 'echo', { text }, n);
  const read = await timeCalls(govClient, 'bench_read', { text }, n);
  const write = await timeCalls(govClient, 'bench_write', { env: 'bench', text }, 500);
  const p = (xs: number[], q: number) => percentile(xs, q);
  const readP50 = p(read, 50) - p(base, 50);
  const readP99 = p(read, 99) - p(base, 99);
  const writeP50 = p(write, 50) - p(base, 50);
  results.overhead_ms = {
    bare: { p50: round(p(base, 50), 3), p99: round(p(base, 99), 3) },
    governed_read: {
      p50: round(p(read, 50), 3),
      p99: round(p(read, 99), 3),
      overhead_p50: round(readP50, 3),
      overhead_p99: round(readP99, 3),
    },
    governed_write: {
      p50: round(p(write, 50), 3),
      p99: round(p(write, 99), 3),
      overhead_p50: round(writeP50, 3),
      store: rt.deps.store.kind,
    },
  };
  row('governed read overhead vs bare SDK tool, p50', `${round(readP50, 3)} ms`, '<= 1 ms', readP50 <= 1);
  row('governed read overhead vs bare SDK tool, p99', `${round(readP99, 3)} ms`);
  row(
    'governed write overhead (audit durable before execution), p50',
    `${round(writeP50, 3)} ms`,
    '<= 5 ms',
    writeP50 <= 5,
  );

  const { tools } = await govClient.listTools();
  const real = tools.filter((x) => !x.name.startsWith('bench_'));
  const bytes = Buffer.byteLength(JSON.stringify(real));
  results.tools_list = {
    tools: real.length,
    bytes,
    bytes_per_tool: round(bytes / Math.max(1, real.length), 0),
  };
  row(
    'tools/list bytes per tool, every toolset (default toolsets: bench/context.ts)',
    `${round(bytes / Math.max(1, real.length), 0)} B (${real.length} tools, ${bytes} B)`,
  );
  await bareClient.close();
  await govClient.close();
  await rt.close();
}

async function httpLoad(): Promise<void> {
  const dir = join(work, 'http');
  execFileSync('mkdir', ['-p', dir]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [CLI, 'serve', '--http', '--port', String(port)], {
    cwd: dir,
    env: { ...process.env, DAY2_STORE: join(dir, 'day2.db'), DAY2_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (i > 100) throw new Error(`the HTTP server did not start: ${stderr.slice(-300)}`);
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const load: HttpLoad = {
      url: `${base}/mcp`,
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'MCP-Protocol-Version': '2025-06-18',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'search_audit', arguments: { limit: 5 } },
      }),
      sessions: 50,
      seconds: 10,
    };
    // One real call first, checked: the load generators count statuses, not JSON-RPC errors.
    const probe = (await (
      await fetch(load.url, { method: 'POST', headers: load.headers, body: load.body })
    ).json()) as { result?: { isError?: boolean } };
    if (!probe.result || probe.result.isError)
      throw new Error(`the probe call failed: ${JSON.stringify(probe)}`);
    // A load generator in this same Node process competes with the server for the two cores; wrk
    // (Debian's package, written in C) does not, so it is used when installed.
    const run = existsSync('/usr/bin/wrk') ? wrkRun : fetchRun;
    await run(load, 2, THINK_MS); // warm-up: JIT, caches, the store's pages
    // The target is latency at a sustained rate: 50 sessions, each calling again 30–50 ms after
    // its last answer (about 1,200 calls/s offered). Latency measured with every connection
    // saturated instead is queueing (50 in flight ÷ throughput), not the server.
    const sustained = await run(load, load.seconds, THINK_MS);
    const saturated = await run(load, load.seconds, undefined);
    const generator = run === wrkRun ? 'wrk' : 'fetch (wrk not installed)';
    results.http = {
      tool: 'search_audit',
      generator,
      sessions: load.sessions,
      seconds: load.seconds,
      sustained: { think_ms: THINK_MS, ...sustained },
      saturated,
    };
    const what = `HTTP: ${load.sessions} sessions (${generator}), search_audit, think ${THINK_MS[0]}–${THINK_MS[1]} ms`;
    row(
      what,
      `${round(sustained.calls_per_s, 0)} calls/s`,
      '>= 1,000 calls/s',
      sustained.calls_per_s >= 1000,
    );
    row(
      'HTTP: errors',
      String(sustained.errors + saturated.errors),
      '0',
      sustained.errors + saturated.errors === 0,
    );
    row('HTTP: p50 latency at that rate', `${round(sustained.p50_ms, 1)} ms`);
    row(
      'HTTP: p99 latency at that rate',
      `${round(sustained.p99_ms, 1)} ms`,
      '<= 50 ms',
      sustained.p99_ms <= 50,
    );
    row(
      `HTTP: saturated (${load.sessions} connections, no think time)`,
      `${round(saturated.calls_per_s, 0)} calls/s, p50 ${round(saturated.p50_ms, 1)} ms, p99 ${round(saturated.p99_ms, 1)} ms`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** Each session's pause between an answer and its next call, in ms (uniform in the range). */
const THINK_MS: [number, number] = [30, 50];

/** wrk with one connection per session; `think` paces each connection, else it runs flat out. */
function wrkRun(load: HttpLoad, seconds: number, think: [number, number] | undefined): Promise<LoadResult> {
  const script = join(work, 'wrk.lua');
  writeFileSync(
    script,
    [
      'wrk.method = "POST"',
      `wrk.body = ${JSON.stringify(load.body)}`,
      ...Object.entries(load.headers).map(
        ([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`,
      ),
      ...(think ? [`delay = function() return math.random(${think[0]}, ${think[1]}) end`] : []),
      'done = function(summary, latency, requests)',
      '  io.write(string.format("DAY2 p50=%d p99=%d max=%d\\n", latency:percentile(50), latency:percentile(99), latency.max))',
      'end',
    ].join('\n'),
  );
  const out = execFileSync('wrk', ['-t2', `-c${load.sessions}`, `-d${seconds}s`, '-s', script, load.url], {
    encoding: 'utf8',
  });
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return Promise.resolve({
    calls_per_s: round(num(/Requests\/sec:\s+([\d.]+)/)),
    errors: non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    // wrk reports microseconds
    p50_ms: round(num(/DAY2 p50=(\d+)/) / 1000),
    p99_ms: round(num(/ p99=(\d+)/) / 1000),
    max_ms: round(num(/ max=(\d+)/) / 1000),
  });
}

/** Benchmarks of the domain issues: scripts in bench/ that print their own figures. */
const DOMAIN_BENCHES = [
  'context.ts',
  'audit-verify.ts',
  'triage.ts',
  'changes.ts',
  'rotation.ts',
  'drift.ts',
  'capacity.ts',
  'cost.ts',
  'db-health.ts',
  // get_service calls/s with telemetry off (no SDK loaded) and on (OTLP/HTTP to a loopback receiver).
  'telemetry.ts',
  // Text bytes against structured bytes of every read tool's answer on the sandbox.
  'text-bytes.ts',
];

async function domainBench(script: string): Promise<void> {
  process.stderr.write(`\n== bench/${script}\n`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'bench', script)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stderr.write(chunk);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  results[`bench/${script}`] = {
    exit_code: code,
    seconds: round((performance.now() - started) / 1000, 1),
    output: output.trim().split('\n'),
  };
}

/** `tsx bench/run.ts [section ...]` runs only those sections (and leaves results.json alone). */
const only = process.argv.slice(2);
const SECTIONS: Record<string, () => Promise<void>> = {
  stdio: stdioSpawn,
  peers: async () => {
    await peer('@modelcontextprotocol/server-everything', 'mcp-server-everything', ['stdio']);
    await peer('mcp-server-kubernetes', 'mcp-server-kubernetes', []);
  },
  overhead: governedOverhead,
  http: httpLoad,
  // serve --sandbox --http under 100k mixed calls: RSS after them within 1.3× of after 10k.
  soak: () => domainBench('soak.ts'),
  // day2 sandbox as its own process: start time, tree RSS; server RSS in sandbox and production mode.
  sandbox: () => domainBench('sandbox-process.ts'),
  // get_service, list_alerts and triage_service over HTTP: serve --sandbox (the sandbox its own
  // process) beside the emulators in the server's process, alternated twice.
  'sandbox-http': () => domainBench('sandbox-http.ts'),
  // serve --http on SQLite while another process holds BEGIN EXCLUSIVE for 5 s: reads and
  // /healthz stay prompt, a governed write is refused within store.timeout.
  'store-lock': () => domainBench('store-lock.ts'),
  // 1 and 3 serve --http replicas on one PostgreSQL behind a round-robin proxy, the same offered
  // load (governed write plans), alternated twice: calls/s and p99 of each.
  replicas: () => domainBench('replicas.ts'),
  // The domain benchmarks run as their own processes, one after another, so that none loads the
  // machine while another measures. Each prints its figures against its target.
  domains: async () => {
    for (const script of DOMAIN_BENCHES) await domainBench(script);
  },
};
const unknown = only.filter((s) => !(s in SECTIONS));
if (unknown.length)
  throw new Error(
    `unknown bench section ${unknown.join(', ')}; sections: ${Object.keys(SECTIONS).join(', ')}`,
  );
try {
  process.stderr.write(`day2 bench on Node ${process.version} (work dir ${work})\n`);
  for (const [name, run] of Object.entries(SECTIONS)) if (!only.length || only.includes(name)) await run();
} finally {
  rmSync(work, { recursive: true, force: true });
}

const width = Math.max(...rows.map((r) => r.what.length));
const vwidth = Math.max(...rows.map((r) => r.value.length));
console.log(`\n${'measure'.padEnd(width)}  ${'value'.padEnd(vwidth)}  target`);
for (const r of rows)
  console.log(
    `${r.what.padEnd(width)}  ${r.value.padEnd(vwidth)}  ${r.target ? `${r.target} ${r.pass ? 'PASS' : 'FAIL'}` : ''}`,
  );
results.targets = rows
  .filter((r) => r.target)
  .map((r) => ({ what: r.what, value: r.value, target: r.target, pass: r.pass }));
if (!only.length) {
  writeFileSync(join(REPO, 'bench', 'results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log('\nwrote bench/results.json');
}
