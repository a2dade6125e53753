import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildRuntime, type OwnedRuntime } from '../../src/build-runtime.js';
import { createServer } from '../../src/create-server.js';
import { checkingOutputs } from '../fixtures/output-check.js';
import { configSchema } from '../../src/config/schema.js';
import { ManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { defineTool, type AnyTool } from '../../src/tools/define-tool.js';
import { allTools } from '../../src/tools/index.js';
import { envField } from '../../src/tools/fields.js';
import type { Backends } from '../../src/providers/backends.js';
import type { Notification, Notifier } from '../../src/providers/notify/notifier.js';

/** A fake backend that records every write; guard tests assert it saw none when a call was refused. */
export class RecordingBackend {
  writes: { target: string; value: string }[] = [];
  version = 1;
}

/** A test-only write tool over a RecordingBackend; its plan binds the backend's version. */
export function testWriteTool(
  backend: RecordingBackend,
  opts: { risk?: 'low' | 'high' | 'critical' } = {},
): AnyTool {
  return defineTool({
    name: 'test_write',
    title: 'Test write',
    description: 'Writes a value to the recording backend (tests only).',
    toolset: 'test',
    effect: 'write',
    risk: opts.risk ?? 'high',
    input: {
      env: envField,
      target: z.string().min(1).describe('object to write'),
      value: z.string().describe('value to write'),
      password: z.string().optional().describe('a secret the tool must never echo'),
    },
    output: { target: z.string(), value: z.string(), version: z.number() },
    plan(args) {
      return Promise.resolve({
        summary: `set ${args.target} to ${args.value} in ${args.env}`,
        env: args.env,
        targets: [{ kind: 'object', name: args.target }],
        preconditions: { version: backend.version },
        details: { from_version: backend.version },
      });
    },
    execute(args) {
      backend.writes.push({ target: args.target, value: args.value });
      backend.version++;
      return Promise.resolve({ target: args.target, value: args.value, version: backend.version });
    },
    render: (o) => `wrote ${o.target}=${o.value} (version ${o.version})`,
  });
}

export class RecordingNotifier implements Notifier {
  sent: Notification[] = [];
  fail = false;
  send(n: Notification): Promise<void> {
    if (this.fail) return Promise.reject(new Error('webhook down'));
    this.sent.push(n);
    return Promise.resolve();
  }
}

export interface TestHarness {
  rt: OwnedRuntime;
  clock: ManualClock;
  backend: RecordingBackend;
  notifier: RecordingNotifier;
  connect(principal?: string, opts?: { readOnly?: boolean; toolsets?: string[] }): Promise<Client>;
  close(): Promise<void>;
}

/**
 * A runtime over a temp SQLite store (or the store at `storeSpec`, e.g. a PostgreSQL schema from
 * test/store/fixtures/backends.ts) with a test write tool, plus in-memory MCP clients.
 */
export async function startHarness(
  config: unknown = {},
  extraTools: AnyTool[] = [],
  storeSpec?: string,
): Promise<TestHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'day2-test-'));
  const clock = new ManualClock(Date.now());
  const backend = new RecordingBackend();
  const notifier = new RecordingNotifier();
  const parsed = configSchema.parse({
    environments: {
      prod: { tier: 'production' },
      staging: { tier: 'staging' },
      dev: { tier: 'development' },
    },
    ...(config as object),
  });
  const rt = await buildRuntime({
    loaded: { config: parsed, baseDir: dir, store: storeSpec ?? join(dir, 'day2.db') },
    log: silentLogger,
    backends: {} as Backends,
    clock,
    notifier,
    tools: [...allTools, testWriteTool(backend), ...extraTools],
  });
  const clients: Client[] = [];
  return {
    rt,
    clock,
    backend,
    notifier,
    async connect(principal = 'agent-bot', opts = {}) {
      const server = createServer(rt, { principal: { id: principal, transport: 'stdio' }, ...opts });
      const [a, b] = InMemoryTransport.createLinkedPair();
      const client = new Client({ name: 'test-client', version: '1.0.0' });
      await Promise.all([server.connect(a), client.connect(b)]);
      clients.push(client);
      return checkingOutputs(client, rt.tools);
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
