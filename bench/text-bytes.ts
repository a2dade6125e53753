/**
 * What a model reads: text bytes against structured bytes of every read tool's answer on the demo
 * sandbox (emulators in this process, the real Alertmanager and registry where installed, no
 * PostgreSQL), each tool called the way an agent starts: with the production environment and the
 * service with the most alerts. Prints per tool, then the median and the maximum over the tools.
 * Target: no text over 8 KB. Run: npm exec -- tsx bench/text-bytes.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import { startSandbox } from '../src/sandbox/start-sandbox.js';
import { buildRuntime } from '../src/server/build-runtime.js';
import { createServer } from '../src/server/create-server.js';
import { allTools } from '../src/tools/index.js';
import { median } from './stats.js';

const out = (line: string) => process.stdout.write(line + '\n');

const redactor = new Redactor();
const sandbox = await startSandbox({
  log: silentLogger,
  redactor,
  env: process.env,
  postgres: false,
  backends: { timeout: 10_000, retries: 0 },
});
const dir = mkdtempSync(join(tmpdir(), 'day2-bench-text-'));
try {
  const config = configSchema.parse({ environments: sandbox.environments, backends: { timeout: 10_000 } });
  const rt = await buildRuntime({
    loaded: { config, baseDir: dir, store: join(dir, 'day2.db') },
    log: silentLogger,
    redactor,
    env: process.env,
    backends: sandbox.backends,
    catalog: sandbox.catalog,
    tools: allTools,
  });
  const server = createServer(rt, { principal: { id: 'bench', transport: 'stdio' } });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);

  const envs = Object.entries(config.environments);
  const prod = envs.find(([, e]) => e.tier === 'production')![0];
  const alerts = (await client.callTool({ name: 'list_alerts', arguments: { env: prod, limit: 100 } }))
    .structuredContent as { alerts: { service?: string }[] };
  const counts = new Map<string, number>();
  for (const x of alerts.alerts) if (x.service) counts.set(x.service, (counts.get(x.service) ?? 0) + 1);
  const service = [...counts].sort((x, y) => y[1] - x[1])[0]?.[0] ?? sandbox.catalog.services()[0]!.id;

  // Every read tool that needs no more than an environment and a service (the database ones need
  // PostgreSQL, which this bench leaves out).
  const reads = allTools.filter((t) => t.effect === 'read' && t.toolset !== 'database');
  const rows: { tool: string; text: number; structured: number; error?: boolean }[] = [];
  for (const t of reads) {
    const shape = t.input as Record<string, { isOptional?: () => boolean }>;
    const args: Record<string, unknown> = {};
    if ('env' in shape) args.env = prod;
    if ('service' in shape) args.service = service;
    const required = Object.entries(shape)
      .filter(([k, v]) => !(k in args) && v.isOptional?.() === false)
      .map(([k]) => k);
    if (required.length) continue; // needs ids from earlier answers (get_approval, get_rotation)
    const res = (await client.callTool({ name: t.name, arguments: args })) as CallToolResult;
    const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    rows.push({
      tool: t.name,
      text: Buffer.byteLength(text),
      structured: Buffer.byteLength(JSON.stringify(res.structuredContent ?? {})),
      ...(res.isError ? { error: true } : {}),
    });
  }
  for (const r of rows)
    out(
      `${r.tool.padEnd(22)} text ${String(r.text).padStart(6)} B   structured ${String(r.structured).padStart(6)} B${r.error ? '   (an error answer)' : ''}`,
    );
  const answered = rows.filter((r) => !r.error);
  const texts = answered.map((r) => r.text);
  const structs = answered.map((r) => r.structured);
  const maxText = Math.max(...texts);
  out(
    `text bytes over ${answered.length} read tools that answered on the sandbox: median ${median(texts)} B, max ${maxText} B (structured: median ${median(structs)} B, max ${Math.max(...structs)} B); target: no text over 8192 B: ${maxText <= 8192 ? 'pass' : 'FAIL'}`,
  );
  await client.close();
  await rt.close();
} finally {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
}
