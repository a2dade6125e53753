import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildRuntime, type OwnedRuntime } from '../../src/build-runtime.js';
import { ManualClock, type Clock } from '../../src/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { createServer } from '../../src/create-server.js';
import { checkingOutputs } from '../fixtures/output-check.js';
import { silentLogger, type Logger } from '../../src/log.js';
import type { RolloutTiming } from '../../src/sandbox/kubernetes/rollout-controller.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/start-sandbox.js';
import { warmUpSdks } from '../../src/providers/real-backends.js';
import { openStore } from '../../src/store/open-store.js';
import type { AnyTool } from '../../src/tools/define-tool.js';
import { allTools } from '../../src/tools/index.js';
import type { Notification, Notifier } from '../../src/providers/notify/notifier.js';

/**
 * The sandbox test harness: the whole server over a running sandbox, driven through real MCP
 * clients. Every domain's integration tests start from here.
 *
 *   const h = await startSandboxHarness();              // demo fleet, every emulator, Alertmanager
 *   const client = await h.connect('alice');            // an MCP Client over InMemoryTransport
 *   const res = await client.callTool({ name: 'get_service', arguments: { service: 'checkout', env: 'prod' } });
 *   h.sandbox.emulators.datadog.monitors.setState(1001, 'OK');   // change the world
 *   h.sandbox.emulators.kubernetes.prod.faults.add({ kind: 'status', status: 503 });   // break it
 *   await h.close();
 *
 * - Emulators start in parallel; the fleet's relative times resolve against `clock` (a
 *   ManualClock at the wall-clock time by default: move it for approval expiry and the like;
 *   the Kubernetes rollout controller and Alertmanager still run on real timers).
 * - PostgreSQL is left alone unless `postgres` is set: seeding resets the fleet's role passwords,
 *   which would race with a rotation test in another file. Pass `postgres: true` (the default
 *   server) or `{url}` when a test needs the fleet's databases and roles.
 * - `config` is merged over the synthesized configuration (top-level keys replace; give
 *   `environments` only to replace them all). Defaults: backends.timeout 5 s, retries 1.
 * - The store is a temporary SQLite file, removed by close().
 */
export interface SandboxHarnessOptions {
  /** Fleet file; default the built-in demo fleet. */
  fleet?: string;
  /** Config keys merged over the sandbox's (policy, approvals, backends, ...). */
  config?: Record<string, unknown>;
  extraTools?: readonly AnyTool[];
  /** Default: a ManualClock at the current time. */
  clock?: Clock;
  /** Seed the fleet's databases and roles on PostgreSQL (default false). */
  postgres?: boolean | { url: string };
  /** Start the real Alertmanager (default true). */
  alertmanager?: boolean;
  timing?: Partial<RolloutTiming>;
  log?: Logger;
}

export class RecordingNotifier implements Notifier {
  sent: Notification[] = [];
  send(n: Notification): Promise<void> {
    this.sent.push(n);
    return Promise.resolve();
  }
}

export interface SandboxHarness {
  rt: OwnedRuntime;
  sandbox: Sandbox;
  clock: Clock;
  notifier: RecordingNotifier;
  /** A connected MCP client acting as `principal` (default "agent-bot"). */
  connect(principal?: string, opts?: { readOnly?: boolean; toolsets?: string[] }): Promise<Client>;
  close(): Promise<void>;
}

export async function startSandboxHarness(opts: SandboxHarnessOptions = {}): Promise<SandboxHarness> {
  const clock = opts.clock ?? new ManualClock(Date.now());
  const log = opts.log ?? silentLogger;
  const extra = opts.config ?? {};
  const backendsConfig = {
    timeout: 5000,
    retries: 1,
    poll_interval: 30_000,
    ...(extra.backends as object | undefined),
  };
  // The SDKs load while the emulators start, so that no test's first call pays for them.
  const warm = warmUpSdks(['kubernetes', 'datadog', 'secrets-manager']);
  const sandbox = await startSandbox({
    fleet: opts.fleet,
    clock,
    log,
    postgres:
      opts.postgres === undefined || opts.postgres === false
        ? false
        : opts.postgres === true
          ? {}
          : { url: opts.postgres.url },
    alertmanager: opts.alertmanager,
    // The registry costs a push per fleet tag; tests that need one start their own (test/helpers/registry.ts).
    registry: false,
    backends: configSchema.shape.backends.parse(backendsConfig),
    timing: opts.timing,
  });
  await warm;
  const dir = mkdtempSync(join(tmpdir(), 'day2-sandbox-test-'));
  let rt: OwnedRuntime | undefined;
  try {
    const config = configSchema.parse({
      environments: sandbox.environments,
      ...extra,
      // As day2 serve --sandbox does (withEnvironments): a fleet's rotation policy, where it has
      // one, over the configured one.
      rotation: { ...(extra.rotation as object | undefined), ...sandbox.rotation },
      backends: backendsConfig,
    });
    const storePath = join(dir, 'day2.db');
    const store = await openStore(storePath, { clock });
    const notifier = new RecordingNotifier();
    rt = await buildRuntime({
      loaded: { config, baseDir: dir, store: storePath },
      log,
      backends: sandbox.backends,
      catalog: sandbox.catalog,
      clock,
      notifier,
      store,
      tools: [...allTools, ...(opts.extraTools ?? [])],
    });
    const runtime = rt;
    const clients: Client[] = [];
    let closing: Promise<void> | undefined;
    return {
      rt: runtime,
      sandbox,
      clock,
      notifier,
      async connect(principal = 'agent-bot', o = {}) {
        const server = createServer(runtime, { principal: { id: principal, transport: 'stdio' }, ...o });
        const [a, b] = InMemoryTransport.createLinkedPair();
        const client = new Client({ name: 'sandbox-test-client', version: '1.0.0' });
        await Promise.all([server.connect(a), client.connect(b)]);
        clients.push(client);
        return checkingOutputs(client, runtime.tools);
      },
      close: () =>
        (closing ??= (async () => {
          await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
          await runtime.close();
          await store.close();
          await sandbox.close();
          rmSync(dir, { recursive: true, force: true });
        })()),
    };
  } catch (err) {
    await rt?.close().catch(() => undefined);
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
