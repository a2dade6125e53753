/**
 * Triage under slow backends: `npm exec -- tsx bench/triage.ts`. Every backend triage reads answers
 * in 100 ms (latency fault injection on the Kubernetes and Datadog emulators, a 100 ms loopback
 * proxy in front of the real Alertmanager); since triage reads them all in one parallel wave, the
 * wall time should stay near one backend's latency. Target: median <= 150 ms. Prints the output size,
 * and the time for a service whose pods crash, where triage reads their logs after listing them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildRuntime } from '../src/server/build-runtime.js';
import { configSchema } from '../src/config/schema.js';
import { createServer } from '../src/server/create-server.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import { createAlertmanagerProvider } from '../src/providers/alertmanager/http-provider.js';
import type { Backends } from '../src/providers/backends.js';
import { startSandbox } from '../src/sandbox/start-sandbox.js';
import { allTools } from '../src/tools/index.js';
import { incidentTools } from '../src/tools/incidents/index.js';
import { median, percentile, round } from './stats.js';

const LATENCY_MS = 100;
const RUNS = 15;

/** A loopback HTTP proxy that waits `latency.ms` (switchable) before forwarding each request. */
async function latencyProxy(
  target: string,
  latency: { ms: number },
): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        fetch(target + (req.url ?? '/'), {
          method: req.method,
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          body,
        })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
            res.end(Buffer.from(await r.arrayBuffer()));
          })
          .catch(() => {
            res.writeHead(502);
            res.end();
          });
      }, latency.ms);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function main(): Promise<void> {
  const redactor = new Redactor();
  const sandbox = await startSandbox({
    log: silentLogger,
    redactor,
    env: process.env,
    postgres: false,
    backends: { timeout: 10_000, retries: 0 },
  });
  const am = sandbox.emulators.alertmanager;
  if (!am) throw new Error('the bench needs prometheus-alertmanager installed');
  const amLatency = { ms: 0 };
  const proxy = await latencyProxy(am.url, amLatency);
  const slowAm = createAlertmanagerProvider({ url: proxy.url, timeoutMs: 10_000 });
  const envMatcher = (env: string) => ({ name: 'env', value: env, isRegex: false, isEqual: true });
  const backends: Backends = {
    has: (env, b) => sandbox.backends.has(env, b),
    kubernetes: (env) => sandbox.backends.kubernetes(env),
    datadog: (env) => sandbox.backends.datadog(env),
    secrets: (env) => sandbox.backends.secrets(env),
    registry: (env) => sandbox.backends.registry(env),
    postgres: sandbox.backends.postgres,
    alertmanager: (env) => ({
      ...slowAm,
      listAlerts: (o = {}) => slowAm.listAlerts({ ...o, filter: [...(o.filter ?? []), envMatcher(env)] }),
      listSilences: (o) => slowAm.listSilences(o),
      previewSilence: (m) => slowAm.previewSilence(m),
      postAlerts: (a) => slowAm.postAlerts(a),
      createSilence: (s) => slowAm.createSilence(s),
      expireSilence: (id) => slowAm.expireSilence(id),
    }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'day2-bench-triage-'));
  const config = configSchema.parse({
    environments: sandbox.environments,
    backends: { timeout: 10_000, retries: 0 },
  });
  const names = new Set(allTools.map((t) => t.name));
  const rt = await buildRuntime({
    loaded: { config, baseDir: dir, store: join(dir, 'day2.db') },
    log: silentLogger,
    redactor,
    env: process.env,
    backends,
    catalog: sandbox.catalog,
    tools: [...allTools, ...incidentTools.filter((t) => !names.has(t.name))],
  });
  const server = createServer(rt, { principal: { id: 'bench', transport: 'stdio' } });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);
  const triage = () =>
    client.callTool({ name: 'triage_service', arguments: { service: 'checkout', env: 'prod' } });

  try {
    for (let i = 0; i < 3; i++) await triage(); // warm: SDK imports, connections, JIT
    const base: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await triage();
      base.push(performance.now() - t0);
    }
    // Six backend endpoints, each 100 ms: Kubernetes (apps: deployment + ReplicaSets; core: pods + events),
    // Datadog (monitors; downtimes), Alertmanager (alerts; silences).
    sandbox.emulators.kubernetes.prod!.faults.add({ kind: 'latency', latencyMs: LATENCY_MS });
    sandbox.emulators.datadog.faults.add({ kind: 'latency', latencyMs: LATENCY_MS });
    amLatency.ms = LATENCY_MS;
    const samples: number[] = [];
    let size = 0;
    let gaps = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await triage();
      samples.push(performance.now() - t0);
      const sc = res.structuredContent as { gaps: unknown[] };
      size = Buffer.byteLength(JSON.stringify(res.structuredContent));
      gaps = sc.gaps.length;
    }
    const med = median(samples);
    const line = (s: string) => process.stderr.write(s + '\n');
    line(`triage_service checkout/prod, every backend +${LATENCY_MS} ms, ${RUNS} runs:`);
    line(
      `  wall median ${round(med, 1)} ms, p95 ${round(percentile(samples, 95), 1)} ms, min ${round(Math.min(...samples), 1)} ms (target median <= 150 ms: ${med <= 150 ? 'pass' : 'FAIL'})`,
    );
    line(
      `  without injected latency: median ${round(median(base), 1)} ms (day2's own work plus the loopback round trips)`,
    );
    line(`  output ${size} bytes of JSON (cap 8192), ${gaps} gap(s)`);

    // Crash-looping pods: triage then reads what they printed, one more Kubernetes round trip.
    sandbox.emulators.kubernetes.staging!.faults.add({ kind: 'latency', latencyMs: LATENCY_MS });
    const crashSamples: number[] = [];
    let crashLogs = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const res = await client.callTool({
        name: 'triage_service',
        arguments: { service: 'notifications', env: 'staging' },
      });
      crashSamples.push(performance.now() - t0);
      crashLogs = (res.structuredContent as { crash_logs: unknown[] }).crash_logs.length;
    }
    const crashMed = median(crashSamples);
    line(
      `triage_service notifications/staging (crash-looping pods, ${crashLogs} log read after the pod list), every backend +${LATENCY_MS} ms: median ${round(crashMed, 1)} ms`,
    );
    process.stdout.write(
      JSON.stringify({
        bench: 'triage',
        latency_ms: LATENCY_MS,
        median_ms: round(med, 1),
        p95_ms: round(percentile(samples, 95), 1),
        output_bytes: size,
        gaps,
        crash_logs_median_ms: round(crashMed, 1),
      }) + '\n',
    );
    if (med > 150 || gaps > 0 || crashLogs === 0) process.exitCode = 1;
  } finally {
    await client.close();
    await rt.close();
    proxy.server.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
