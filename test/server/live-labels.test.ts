import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger, type Logger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import { buildBackends, type BuiltBackends } from '../../src/server/build-backends.js';
import { sdkImported } from '../../src/providers/sdk-loads.js';
import { buildRuntime, type OwnedRuntime } from '../../src/server/build-runtime.js';
import { createServer } from '../../src/server/create-server.js';
import { deploymentObject } from '../../src/sandbox/kubernetes/builders.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';
import { component, writeTree } from '../catalog/fixtures.js';

/**
 * A real deployment (not the sandbox) learns the names its clusters' Deployments carry in
 * `app.kubernetes.io/name` at start-up, so the resolver knows them as it does in the sandbox; a
 * cluster that does not answer costs those names and a warning, never the start. The fleet here
 * is nobody's demo: one environment called `live`, namespace `retail`.
 */
// `day2 serve` reads them from a child process (it has no Kubernetes client of its own yet), other
// commands in their own process; the child runs first, before anything here loads the client.
describe.each([
  ['a child process', true],
  ['this process', false],
])('a configured deployment merges its live workload labels into the catalog, read in %s', (_, inChild) => {
  let k8s: KubernetesEmulator;
  let dir: string;
  let built: BuiltBackends;
  let rt: OwnedRuntime;
  let client: Client;
  const warnings: string[] = [];

  beforeAll(async () => {
    k8s = await startKubernetesEmulator({
      objects: [
        deploymentObject('retail', 'web-v2', 'registry.local/web:1.0', {
          labels: { 'app.kubernetes.io/name': 'shopfront' },
        }),
        deploymentObject('retail', 'basket-svc', 'registry.local/basket:3.1', {
          labels: { 'app.kubernetes.io/name': 'basket' },
        }),
      ],
    });
    const kc = await k8s.kubeConfig();
    dir = await writeTree({
      'catalog.yaml': component(
        'storefront',
        { owner: 'group:web-team' },
        { 'day2.dev/kubernetes-workload': 'retail/web-v2' },
      ),
      kubeconfig: kc.exportConfig(),
      'day2.yaml': [
        'catalog:',
        '  paths: [catalog.yaml]',
        'environments:',
        '  live:',
        '    tier: production',
        '    kubernetes: { kubeconfig: kubeconfig, context: sandbox, namespaces: [retail] }',
        '  gone:',
        '    tier: staging',
        '    kubernetes: { kubeconfig: unreachable, context: sandbox, namespaces: [retail] }',
        'backends: { timeout: 2s, retries: 0 }',
        '',
      ].join('\n'),
    });
    // A cluster that refuses connections: its labels cannot be read.
    await writeFile(join(dir, 'unreachable'), kc.exportConfig().replace(k8s.url, 'http://127.0.0.1:9'));
    const log: Logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg) };
    const loaded = loadConfig({ path: join(dir, 'day2.yaml'), env: {} });
    const redactor = new Redactor();
    built = await buildBackends(loaded, { log, redactor, env: {}, clusterReadsInChild: inChild });
    // Read in a child, the labels cost this process no Kubernetes client; the same child read the
    // day2 RoleBindings for the access reaper's first pass (none here; the dead cluster a gap).
    expect(sdkImported('kubernetes')).toBe(!inChild);
    if (inChild) {
      expect(built.startBindings?.bindings).toEqual([]);
      expect(built.startBindings?.gaps.map((g) => g.env)).toEqual(['gone']);
    } else expect(built.startBindings).toBeUndefined();
    rt = await buildRuntime({
      loaded: { ...loaded, store: join(dir, 'day2.db') },
      log: silentLogger,
      redactor,
      env: {},
      backends: built.backends,
      catalog: built.catalog,
    });
    const server = createServer(rt, { principal: { id: 'oncall', transport: 'stdio' } });
    const [a, b] = InMemoryTransport.createLinkedPair();
    client = new Client({ name: 'live-labels', version: '1' });
    await Promise.all([server.connect(a), client.connect(b)]);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await rt?.close();
    await built?.close();
    await k8s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const getService = async (service: string) =>
    (await client.callTool({ name: 'get_service', arguments: { service, env: 'live' } })) as CallToolResult;

  it('finds a catalog service by the app.kubernetes.io/name of its workload', async () => {
    const res = await getService('shopfront');
    const text = (res.content[0] as { text: string }).text;
    expect(res.isError ?? false, text).toBe(false);
    expect(res.structuredContent).toMatchObject({ service: 'storefront', owner: 'web-team' });
  });

  it('a workload no catalog file names is a service of its own, found by its label', async () => {
    const res = await getService('basket');
    const text = (res.content[0] as { text: string }).text;
    expect(res.isError ?? false, text).toBe(false);
    expect(res.structuredContent).toMatchObject({ service: 'basket' });
  });

  it('the unreachable cluster was left out with a warning, and the server still started', () => {
    expect(warnings.filter((w) => /live workload labels not read/.test(w))).toHaveLength(1);
    expect(built.describe).toMatch(/2 environments/);
  });
});
