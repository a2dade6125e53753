/**
 * What telemetry costs: get_service calls/s in-process (in-memory MCP client, a 200-service fleet
 * behind in-process fakes, no latency) with telemetry off (no OTEL_* set: no SDK loaded) and on
 * (spans and the duration histogram exported over OTLP/HTTP to a receiver on loopback, in a process
 * of its own that reads each export and answers 200, as a collector would). Rounds
 * alternate off/on so that a busy machine weighs on both. Run: npm exec -- tsx bench/telemetry.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildRuntime, type OwnedRuntime } from '../src/server/build-runtime.js';
import { createServer } from '../src/server/create-server.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import type { Telemetry } from '../src/core/telemetry.js';
import { telemetrySettings } from '../src/config/telemetry-settings.js';
import { startTelemetry } from '../src/server/start-telemetry.js';
import { syntheticFleet } from '../src/sandbox/fleet/synthetic.js';
import { spawn } from 'node:child_process';
import { fakeProdConfig } from './fake-backend.js';
import { fleetBackends } from './fleet-backends.js';
import { median, round } from './stats.js';

const out = (line: string) => process.stdout.write(line + '\n');
const CALLS = 2000;
const ROUNDS = 6;

const fleet = syntheticFleet({ services: 200, podsPerService: 5 });
const { backends } = fleetBackends(fleet);
const config = fakeProdConfig(fleet.fleet.environments.prod!.namespaces);
// The receiver drains each export and counts the bytes; it runs beside day2, not in its event loop.
const RECEIVER = `
let bytes = 0, exports = 0;
const server = require('node:http').createServer((req, res) => {
  req.on('data', (c) => (bytes += c.length));
  req.on('end', () => { exports++; res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => process.stdout.write(JSON.stringify({ bytes, exports }) + '\\n', () => process.exit(0)));
`;
const receiver = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
let received = '';
receiver.stdout.on('data', (d: Buffer) => (received += d.toString()));
while (!received.includes('\n')) await new Promise((r) => setTimeout(r, 20));
const receiverUrl = `http://127.0.0.1:${received.trim()}`;
const dir = mkdtempSync(join(tmpdir(), 'day2-bench-telemetry-'));

async function session(name: string, telemetry?: Telemetry): Promise<{ rt: OwnedRuntime; client: Client }> {
  const rt = await buildRuntime({
    loaded: { config, baseDir: dir, store: join(dir, `${name}.db`) },
    log: silentLogger,
    redactor: new Redactor(),
    env: process.env,
    backends,
    catalog: fleet.catalog,
    telemetry,
  });
  const server = createServer(rt, { principal: { id: 'bench', transport: 'stdio' } });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench', version: '1' });
  await Promise.all([server.connect(a), client.connect(b)]);
  return { rt, client };
}

const services = fleet.catalog.services();
async function callsPerSecond(client: Client): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const r = await client.callTool({
      name: 'get_service',
      arguments: { service: services[i % services.length]!.id, env: 'prod' },
    });
    if (r.isError) throw new Error(`get_service failed: ${JSON.stringify(r.content)}`);
  }
  return CALLS / ((performance.now() - started) / 1000);
}

const on = await startTelemetry(
  telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl, OTEL_METRIC_EXPORT_INTERVAL: '5000' })
    .settings,
  silentLogger,
);
const off = await session('off');
const traced = await session('on', on);
// Warm both: the first calls compile code paths and fill the catalog's caches.
await callsPerSecond(off.client);
await callsPerSecond(traced.client);
const offRates: number[] = [];
const onRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  offRates.push(await callsPerSecond(off.client));
  onRates.push(await callsPerSecond(traced.client));
}
await on.flush();
const offRate = median(offRates);
const onRate = median(onRates);
// Each round's pair ran back to back: their ratio is less at the mercy of the machine's load.
const ratios = offRates.map((o, i) => onRates[i]! / o);
const ratio = median(ratios);
const perCallUs = (1 / onRate - 1 / offRate) * 1e6;
out(
  `get_service in-process, telemetry off (no SDK loaded): ${round(offRate, 0)} calls/s (median of ${ROUNDS} rounds of ${CALLS})`,
);
out(
  `get_service in-process, telemetry on (OTLP/HTTP to a loopback receiver): ${round(onRate, 0)} calls/s, ` +
    `${round((1 - ratio) * 100, 1)}% fewer (median of the rounds' on/off ratios; rounds ${ratios
      .map((r) => `${round((1 - r) * 100, 0)}%`)
      .join(', ')}), ${round(perCallUs, 0)} µs a call`,
);
await Promise.all([off.client.close(), traced.client.close()]);
await Promise.all([off.rt.close(), traced.rt.close()]);
await on.shutdown();
const ended = new Promise((r) => receiver.once('exit', r));
receiver.kill('SIGTERM');
await ended;
const { bytes, exports } = JSON.parse(received.trim().split('\n').at(-1)!) as {
  bytes: number;
  exports: number;
};
out(`receiver: ${exports} OTLP/HTTP exports, ${round(bytes / 1e6, 1)} MB of JSON`);
rmSync(dir, { recursive: true, force: true });
