/**
 * Context at scale: a synthetic fleet of 5,000 services and 50,000 pods (src/sandbox/fleet/synthetic.ts).
 * Kubernetes, Datadog and Alertmanager are in-process fakes over that fleet with an injectable
 * latency, so the figures are day2's own work (catalog, graph, fan-out, governance, MCP) plus the
 * latency; the emulators are measured by their own tests. Run: npm exec -- tsx bench/context.ts
 *  - day2://graph and get_service, warm, p50 <= 50 ms
 *  - get_service when each backend answers in 100 ms: <= 130 ms (parallel, not serial)
 *  - list_alerts / list_deployments default results <= 8 KB
 *  - tools/list bytes per tool for the default toolsets (target <= 450), and for all toolsets
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildRuntime } from '../src/server/build-runtime.js';
import { createServer } from '../src/server/create-server.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import { syntheticFleet } from '../src/sandbox/fleet/synthetic.js';
import { DEFAULT_TOOLSETS } from '../src/core/toolsets.js';
import { fakeProdConfig } from './fake-backend.js';
import { fleetBackends } from './fleet-backends.js';
import { median, round } from './stats.js';

const SERVICES = 5000;
const PODS_PER_SERVICE = 10;
const out = (line: string) => process.stdout.write(line + '\n');

const t0 = performance.now();
const fleet = syntheticFleet({ services: SERVICES, podsPerService: PODS_PER_SERVICE });
const env = fleet.fleet.environments.prod!;
out(
  `fleet: ${fleet.catalog.size} services, ${env.deployments.reduce((n, d) => n + d.pods.length, 0)} pods (built in ${round(performance.now() - t0)} ms)`,
);

const { backends, setLatency } = fleetBackends(fleet);

const dir = mkdtempSync(join(tmpdir(), 'day2-bench-context-'));
const config = fakeProdConfig(env.namespaces);
const rt = await buildRuntime({
  loaded: { config, baseDir: dir, store: join(dir, 'day2.db') },
  log: silentLogger,
  redactor: new Redactor(),
  env: process.env,
  backends,
  catalog: fleet.catalog,
});
/** A client of a session over `rt`, as `day2 serve` would select its tools (every tool without toolsets). */
async function connect(toolsets?: readonly string[]): Promise<Client> {
  const server = createServer(rt, { principal: { id: 'bench', transport: 'stdio' }, toolsets });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const c = new Client({ name: 'bench', version: '1' });
  await Promise.all([server.connect(a), c.connect(b)]);
  return c;
}
// What `day2 serve` serves when no toolsets are chosen; the figures below are measured on it.
const client = await connect(DEFAULT_TOOLSETS);

async function time(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await f();
    xs.push(performance.now() - s);
  }
  return xs;
}
const services = fleet.catalog.services();
const pick = (i: number) => services[(i * 7919) % services.length]!.id;
const results: Record<string, number> = {};

await client.readResource({ uri: 'day2://graph' }); // warm
const graph = median(await time(20, () => client.readResource({ uri: 'day2://graph' })));
results.graph_p50_ms = round(graph, 2);
out(`day2://graph (5,000 services), warm p50: ${round(graph, 2)} ms (target <= 50 ms)`);

let k = 0;
await client.callTool({ name: 'get_service', arguments: { service: pick(0), env: 'prod' } });
const gs = median(
  await time(50, () =>
    client.callTool({ name: 'get_service', arguments: { service: pick(++k), env: 'prod' } }),
  ),
);
results.get_service_p50_ms = round(gs, 2);
out(`get_service (50,000 pods), warm p50: ${round(gs, 2)} ms (target <= 50 ms)`);

// The same services as above: day2 has seen their Deployments (selectors are cached, being immutable).
k = 0;
setLatency(100);
const fan = median(
  await time(10, () =>
    client.callTool({ name: 'get_service', arguments: { service: pick(++k), env: 'prod' } }),
  ),
);
results.get_service_fanout_100ms_p50 = round(fan, 1);
out(
  `get_service with every backend answering in 100 ms: p50 ${round(fan, 1)} ms (target <= 130 ms; serial would be >= 300 ms)`,
);
setLatency(0);

for (const name of ['list_alerts', 'list_deployments']) {
  const r = await client.callTool({ name, arguments: {} });
  const bytes = JSON.stringify(r.structuredContent).length;
  results[`${name}_bytes`] = bytes;
  out(
    `${name} default result: ${bytes} bytes structured (target <= 8192), next_cursor ${(r.structuredContent as { next_cursor?: string }).next_cursor ? 'present' : 'absent'}`,
  );
}
const { tools } = await client.listTools();
const perTool = JSON.stringify(tools).length / tools.length;
results.tools_list_bytes_per_tool = round(perTool);
out(
  `tools/list, default toolsets (${DEFAULT_TOOLSETS.join(', ')}): ${tools.length} tools, ${round(perTool)} bytes per tool (target <= 450)`,
);
// What hosts hand the model of each tool: name, description and input schema (title, annotations
// and output schema are for the client). Informational: the target is on the whole entry.
const modelBytes =
  tools.reduce(
    (n, t) =>
      n + JSON.stringify({ name: t.name, description: t.description, input_schema: t.inputSchema }).length,
    0,
  ) / tools.length;
results.tools_list_model_bytes_per_tool = round(modelBytes);
out(
  `  of which name, description and input schema (what a host passes to the model): ${round(modelBytes)} bytes per tool`,
);
const allClient = await connect();
const { tools: every } = await allClient.listTools();
const perToolAll = JSON.stringify(every).length / every.length;
results.tools_list_bytes_per_tool_all = round(perToolAll);
out(`tools/list, --toolsets all: ${every.length} tools, ${round(perToolAll)} bytes per tool`);
await allClient.close();
out(`RESULT ${JSON.stringify(results)}`);

await client.close();
await rt.close();
rmSync(dir, { recursive: true, force: true });
