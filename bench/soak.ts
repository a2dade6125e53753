/**
 * Soak: `day2 serve --sandbox --http` (dist/, its own process) under 100k mixed calls on
 * loopback with bounded concurrency: reads of several tools, resource reads and a few plans.
 * Prints the server's RSS after the first 10k calls and after all of them; target: the ratio
 * <= 1.3 (memory that grows with calls is a leak, whatever the absolute figure), then its RSS after
 * 40 s without a call (the server trims what a busy spell grew once it has been idle for 30 s).
 * `tsx bench/soak.ts [calls]` runs it alone (npm run build first); bench/run.ts runs it as `soak`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { round } from './stats.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'dist', 'src', 'cli', 'main.js');
const TOTAL = Number(process.argv[2] ?? 100_000);
const FIRST = Math.min(10_000, TOTAL);
const CONCURRENCY = 16;
const TARGET = 1.3;
const IDLE_WAIT_MS = 40_000;

/** The mix, by call index: mostly reads, a resource read in every few, a plan in every 500. */
function call(i: number): { method: string; params: Record<string, unknown> } {
  const tool = (name: string, args: Record<string, unknown>) => ({
    method: 'tools/call',
    params: { name, arguments: args },
  });
  if (i % 500 === 499)
    // A write without a token: a real dry run and a pending approval (the same few, re-used).
    return tool('scale_deployment', { service: 'web-frontend', env: 'staging', replicas: 3 + (i % 3) });
  // list_deployments reads every workload of the fleet (seconds on the sandbox): one in 100.
  if (i % 100 === 98) return tool('list_deployments', { env: 'prod' });
  switch (i % 8) {
    case 0:
      return tool('get_service', { service: 'web-frontend', env: 'prod' });
    case 1:
      return tool('list_alerts', { env: 'prod' });
    case 2:
      return tool('get_service', { service: 'checkout', env: 'prod' });
    case 3:
      return tool('search_audit', { limit: 5 });
    case 4:
      return tool('dependency_impact', { service: 'web-frontend', env: 'prod' });
    case 5:
      return { method: 'resources/read', params: { uri: 'day2://services' } };
    case 6:
      return { method: 'resources/read', params: { uri: 'day2://alerts' } };
    default:
      return tool('list_credentials', { env: 'prod' });
  }
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'day2-soak-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--sandbox', '--http', '--port', String(port), '--toolsets', 'all'],
    {
      cwd: dir,
      env: { ...process.env, DAY2_STORE: join(dir, 'day2.db'), DAY2_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}/mcp`;
  const errors = new Map<string, number>();
  const ms = new Map<string, number>();
  const firstErrors = new Map<string, string>();
  try {
    await waitReady(url);
    let next = 0;
    let done = 0;
    let rss10k = 0;
    const started = performance.now();
    const worker = async () => {
      for (let i = next++; i < TOTAL; i = next++) {
        const { method, params } = call(i);
        const what = method === 'tools/call' ? String(params.name) : String(params.uri);
        const t0 = performance.now();
        const outcome = await send(url, { jsonrpc: '2.0', id: i, method, params });
        ms.set(what, (ms.get(what) ?? 0) + performance.now() - t0);
        if (outcome !== 'ok') {
          errors.set(what, (errors.get(what) ?? 0) + 1);
          if (!firstErrors.has(what)) firstErrors.set(what, outcome);
        }
        done += 1;
        if (done === FIRST) rss10k = rssMb(child.pid!);
        if (done % 10_000 === 0)
          process.stderr.write(`  ${done} calls, RSS ${round(rssMb(child.pid!), 1)} MB\n`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    const rssEnd = rssMb(child.pid!);
    const ratio = rssEnd / rss10k;
    // Quiet afterwards: the server gives back what the burst grew once idle (trimWhenIdle, 30 s).
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    const rssIdle = rssMb(child.pid!);
    const failed = [...errors.values()].reduce((a, b) => a + b, 0);
    const figures = {
      calls: TOTAL,
      concurrency: CONCURRENCY,
      calls_per_s: round(TOTAL / seconds),
      rss_after_10k_mb: round(rss10k, 1),
      rss_after_all_mb: round(rssEnd, 1),
      rss_after_idle_mb: round(rssIdle, 1),
      idle_wait_s: IDLE_WAIT_MS / 1000,
      ratio: round(ratio, 2),
      errors: Object.fromEntries(errors),
      total_ms_by_call: Object.fromEntries([...ms].map(([k, v]) => [k, round(v)])),
    };
    process.stdout.write(`soak ${JSON.stringify(figures)}\n`);
    for (const [what, text] of firstErrors) process.stdout.write(`first error of ${what}: ${text}\n`);
    process.stdout.write(
      `RSS after ${TOTAL} mixed calls / after ${FIRST}: ${round(ratio, 2)}× (target <= ${TARGET}×: ${ratio <= TARGET ? 'pass' : 'FAIL'})\n`,
    );
    process.stdout.write(
      `calls that failed: ${failed} (target < 1%: ${failed < TOTAL / 100 ? 'pass' : 'FAIL'})\n`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nserver stderr: ${stderr.slice(-1000)}`, { cause: err });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEADERS = {
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
  'MCP-Protocol-Version': '2025-06-18',
};

/** 'ok', or what went wrong: an HTTP status, a JSON-RPC error or an isError result. */
async function send(url: string, body: unknown): Promise<string> {
  try {
    const res = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
    const j = (await res.json()) as { result?: { isError?: boolean; content?: unknown }; error?: unknown };
    if (res.status !== 200) return `HTTP ${res.status}`;
    if (j.error) return JSON.stringify(j.error).slice(0, 200);
    if (j.result?.isError) return JSON.stringify(j.result.content).slice(0, 300);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

async function waitReady(url: string): Promise<void> {
  // Ready when a tool that needs the backends answers: the emulators start after the transport.
  for (let i = 0; i < 300; i++) {
    try {
      if ((await send(url, { jsonrpc: '2.0', id: 0, ...call(1) })) === 'ok') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the sandbox HTTP server did not answer list_alerts within 60 s');
}

await main();
