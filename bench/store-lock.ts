/**
 * A SQLite store locked by another process (a backup, a sqlite3 shell holding BEGIN EXCLUSIVE):
 * `serve --http` in this process on a SQLite store; p50/p99 of a read tool that needs no store
 * and of GET /healthz, first unlocked (baseline, SAMPLES each) and then while another `node`
 * holds the exclusive lock for LOCK_MS, plus how long a governed write takes to be refused then.
 * `tsx bench/store-lock.ts` runs it alone (Node 24: node:sqlite); bench/run.ts runs it as
 * `store-lock`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { serve } from '../src/cli/serve.js';
import { silentLogger } from '../src/core/log.js';
import { holdSqliteLock } from '../test/fixtures/hold-sqlite-lock.js';
import { benchTools, writeBenchConfig } from './bench-tools.js';
import { percentile, round } from './stats.js';

const SAMPLES = 200;
const LOCK_MS = 5000;
/** The pause between one call of a loop and its next, as an SRE's dashboard or agent would pace. */
const PAUSE_MS = 5;

/** Calls `fn` again and again until `until(calls so far)`; resolves to each call's time in ms. */
async function loop(fn: () => Promise<void>, until: (n: number) => boolean): Promise<number[]> {
  const took: number[] = [];
  while (!until(took.length)) {
    const t0 = performance.now();
    await fn();
    took.push(performance.now() - t0);
    await sleep(PAUSE_MS);
  }
  return took;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'day2-store-lock-'));
  const store = join(dir, 'day2.db');
  const config = writeBenchConfig(dir);
  const h = await serve({
    config,
    http: true,
    port: 0,
    signals: false,
    log: silentLogger,
    env: { ...process.env, DAY2_STORE: store, DAY2_PRINCIPAL: 'bench' },
    extraTools: benchTools,
    toolsets: ['all'],
  });
  const client = new Client({ name: 'bench-store-lock', version: '1' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(h.url!)));
    const healthz = `${new URL(h.url!).origin}/healthz`;
    const states = new Map<string, number>();
    const read = async () => {
      const r = (await client.callTool({
        name: 'bench_read',
        arguments: { text: 'hello' },
      })) as CallToolResult;
      if (r.isError) throw new Error(`bench_read failed: ${JSON.stringify(r.content)}`);
    };
    const health = async () => {
      const res = await fetch(healthz);
      const state = ((await res.json()) as { store?: string }).store ?? `HTTP ${res.status}`;
      states.set(state, (states.get(state) ?? 0) + 1);
    };
    const write = async () => {
      const t0 = performance.now();
      const r = (await client.callTool({
        name: 'bench_write',
        arguments: { env: 'bench', text: 'hello' },
      })) as CallToolResult;
      return { ms: performance.now() - t0, refused: r.isError === true };
    };

    for (let i = 0; i < 50; i++) await Promise.all([read(), health(), i % 10 === 0 ? write() : undefined]);

    // Baseline: both loops side by side, as under the lock, until each has SAMPLES.
    const [baseRead, baseHealth] = await Promise.all([
      loop(read, (n) => n >= SAMPLES),
      loop(health, (n) => n >= SAMPLES),
    ]);
    const baseWrite = await write();
    const baseStates = new Map(states);
    states.clear();

    const lock = await holdSqliteLock(store);
    const lockedAt = performance.now();
    const held = () => performance.now() - lockedAt >= LOCK_MS;
    const [lockedRead, lockedHealth, refusedWrite] = await Promise.all([
      loop(read, held),
      loop(health, held),
      // After the reads' audit records have started to queue behind the lock, as in production.
      sleep(300).then(write),
    ]);
    await lock.release();
    const after = await write();

    const fmt = (xs: number[]) =>
      `${String(xs.length).padStart(5)}  ${round(percentile(xs, 50), 2).toFixed(2).padStart(8)}  ${round(percentile(xs, 99), 2).toFixed(2).padStart(8)}`;
    const states_ = (m: Map<string, number>) => [...m].map(([s, n]) => `${s} ×${n}`).join(', ');
    console.log(`SQLite store, serve --http in-process, one MCP session; lock held ${LOCK_MS / 1000} s`);
    console.log(`${'measure'.padEnd(42)}  calls    p50 ms    p99 ms`);
    console.log(`${'bench_read (needs no store), unlocked'.padEnd(42)}  ${fmt(baseRead)}`);
    console.log(`${'bench_read (needs no store), locked'.padEnd(42)}  ${fmt(lockedRead)}`);
    console.log(`${'GET /healthz, unlocked'.padEnd(42)}  ${fmt(baseHealth)}`);
    console.log(`${'GET /healthz, locked'.padEnd(42)}  ${fmt(lockedHealth)}`);
    console.log(
      `governed write, unlocked: ${baseWrite.refused ? 'REFUSED' : 'executed'} in ${round(baseWrite.ms, 1)} ms`,
    );
    console.log(
      `governed write, locked: ${refusedWrite.refused ? 'refused' : 'NOT REFUSED'} in ${round(refusedWrite.ms, 1)} ms` +
        ` (store.timeout ${h.runtime.deps.config.store.timeout} ms)`,
    );
    console.log(
      `governed write, lock released: ${after.refused ? 'REFUSED' : 'executed'} in ${round(after.ms, 1)} ms`,
    );
    console.log(`/healthz store: unlocked ${states_(baseStates)}; locked ${states_(states)}`);
    if (baseWrite.refused || !refusedWrite.refused || after.refused) process.exitCode = 1;
  } finally {
    await client.close();
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
