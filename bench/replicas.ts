/**
 * One replica against three at the same offered load, in one run: `day2 serve --http` processes
 * (test/fixtures/serve-test.ts under tsx, with the test tools) on one private PostgreSQL cluster,
 * behind the round-robin proxy of the replicas-under-faults test. SESSIONS MCP SDK clients, each
 * its own principal, call on a fixed schedule (open loop: RATE calls/s in all, whatever the
 * answers do), so a latency is measured from when the call was due, not when it was sent. Every
 * call is a governed write asked for approval (test_write without approval: plan, an approval
 * request and durable audit records in PostgreSQL), on a target of its own. The proxy first
 * routes to one replica, then to all three; the other two run throughout, idle while one
 * serves; the two alternate twice. Run: npm exec -- tsx bench/replicas.ts [rate]
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startPostgresCluster } from '../src/sandbox/postgres-cluster.js';
import { ReplicaProcess, startRoundRobinProxy } from '../test/fixtures/replica-fleet.js';
import { makeTestEnv } from '../test/fixtures/test-env.js';
import { percentile, round } from './stats.js';

const out = (line: string) => process.stdout.write(line + '\n');
const SESSIONS = 20;
const RATE = Number(process.argv[2] ?? 100);
const WARMUP_S = 2;
const MEASURE_S = 10;

const principal = (i: number) => `bench-${i}`;
const token = (i: number) => `bench-token-${i}-${'0123456789'.repeat(2)}`;
const tokenEnv = (i: number) => `DAY2_BENCH_TOKEN_${i}`;

const cluster = await startPostgresCluster();
const proxy = await startRoundRobinProxy([]);
const t = makeTestEnv(
  {
    http: {
      tokens: Array.from({ length: SESSIONS }, (_, i) => ({
        principal: principal(i),
        token_env: tokenEnv(i),
      })),
      allowed_hosts: [`127.0.0.1:${proxy.port}`],
    },
  },
  `${cluster.adminUrl}&schema=day2_bench`,
);
const env = {
  ...t.env,
  DAY2_LOG_LEVEL: 'warn',
  ...Object.fromEntries(Array.from({ length: SESSIONS }, (_, i) => [tokenEnv(i), token(i)])),
};
const replicas: ReplicaProcess[] = [];
let round_ = 0;

/** One round at RATE calls/s for warm-up plus measurement; the measured calls' latencies and errors. */
async function measure(label: string): Promise<void> {
  round_++;
  const clients = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const c = new Client({ name: `bench-replicas-${i}`, version: '1' });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(proxy.url), {
          requestInit: { headers: { Authorization: `Bearer ${token(i)}` } },
        }),
      );
      return c;
    }),
  );
  const interval = (1000 * SESSIONS) / RATE;
  const start = performance.now() + 100;
  const measureFrom = start + WARMUP_S * 1000;
  const end = measureFrom + MEASURE_S * 1000;
  const latencies: number[] = [];
  let lastAnswer = measureFrom;
  let errors = 0;
  let firstError = '';
  await Promise.all(
    clients.map(async (client, i) => {
      for (let k = 0; ; k++) {
        const due = start + (i * interval) / SESSIONS + k * interval;
        if (due >= end) return;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        let ok = false;
        try {
          const r = (await client.callTool({
            name: 'test_write',
            arguments: { env: 'staging', target: `r${round_}-s${i}-${k}`, value: 'v' },
          })) as CallToolResult;
          ok = !r.isError && (r.structuredContent as { status?: string }).status === 'approval_required';
          if (!ok) firstError ||= JSON.stringify(r.content).slice(0, 200);
        } catch (err) {
          firstError ||= (err as Error).message;
        }
        if (due < measureFrom) continue;
        lastAnswer = Math.max(lastAnswer, performance.now());
        latencies.push(performance.now() - due);
        if (!ok) errors++;
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
  // Answered calls over the time from the first measured call due to the last answer.
  const perS = latencies.length / ((lastAnswer - measureFrom) / 1000);
  out(
    `${label}: ${round(perS, 1)} calls/s answered of ${RATE} offered, ${errors} errors, ` +
      `p50 ${round(percentile(latencies, 50), 1)} ms, p99 ${round(percentile(latencies, 99), 1)} ms, ` +
      `max ${round(Math.max(...latencies), 1)} ms (load average ${round(loadavg()[0]!, 1)})`,
  );
  if (firstError) out(`  first error: ${firstError}`);
}

try {
  for (const name of ['A', 'B', 'C']) replicas.push(await ReplicaProcess.start(name, t.configPath, env));
  out(
    `replicas: ${SESSIONS} sessions, ${RATE} governed write plans/s offered, ${WARMUP_S} s warm-up, ${MEASURE_S} s measured, one PostgreSQL`,
  );
  // Alternated, so that neither count gets the quieter moment or the emptier tables.
  for (const pass of [1, 2]) {
    proxy.route([replicas[0]!.port]);
    await measure(`1 replica,  pass ${pass}`);
    proxy.route(replicas.map((r) => r.port));
    await measure(`3 replicas, pass ${pass}`);
  }
} finally {
  await Promise.all(replicas.map((r) => r.stop()));
  await proxy.close();
  await cluster.stop();
  t.cleanup();
}
