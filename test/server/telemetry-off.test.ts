import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { REPO, makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.js';

// In a process of its own, so that nothing another test loaded counts: `day2 serve --http` answers
// a tools/call, and a resolve hook records every @opentelemetry package the process asked for.
const CHILD = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const m = /^@opentelemetry\\/[^/]+/.exec(specifier);
    if (m) seen.add(m[0]);
    return next(specifier, context);
  },
});
const { serveHttp } = await import('./test/fixtures/serve-http.ts');
const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
const t = JSON.parse(process.env.TEST_ENV);
const handle = await serveHttp(t, JSON.parse(process.env.OTEL_ENV));
const client = new Client({ name: 'otel-off', version: '1' });
await client.connect(new StreamableHTTPClientTransport(new URL(handle.url)));
const r = await client.callTool({ name: 'get_approval', arguments: { approval_id: 'apr_none' } });
await client.close();
await handle.close();
process.stdout.write(JSON.stringify({ seen: [...seen].sort(), answered: r.content.length > 0 }));
`;

function run(t: TestEnv, otelEnv: Record<string, string>): Promise<{ seen: string[]; answered: boolean }> {
  // Only the variables the test sets: none from the machine's environment.
  const env = Object.fromEntries(Object.entries(t.env).filter(([k]) => !k.startsWith('OTEL_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: REPO,
      env: { ...env, TEST_ENV: JSON.stringify({ ...t, env }), OTEL_ENV: JSON.stringify(otelEnv) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

describe('telemetry off by default', () => {
  let t: TestEnv;
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    t = makeTestEnv();
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    t?.cleanup();
    await receiver?.close();
  });

  it('without OTEL_* settings, serving a call loads the OpenTelemetry API and no SDK', async () => {
    const r = await run(t, {});
    expect(r.answered).toBe(true);
    expect(r.seen).toEqual(['@opentelemetry/api']);
  }, 60_000);

  it('with OTEL_SDK_DISABLED=true an endpoint is not enough', async () => {
    const r = await run(t, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' });
    expect(r.seen).toEqual(['@opentelemetry/api']);
  }, 60_000);

  it('with an endpoint, the SDK and exporters are loaded and the call is exported', async () => {
    const r = await run(t, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    expect(r.seen).toEqual(
      expect.arrayContaining([
        '@opentelemetry/sdk-trace-base',
        '@opentelemetry/sdk-metrics',
        '@opentelemetry/exporter-trace-otlp-http',
      ]),
    );
    // Shut down on close: the spans of the call were exported before the process ended.
    expect(receiver.spans.map((s) => s.name)).toContain('tools/call get_approval');
    expect(receiver.spans.find((s) => s.name === 'tools/call get_approval')?.attributes).toMatchObject({
      'network.transport': 'tcp',
      // The SDK client sends the negotiated version in the MCP-Protocol-Version header.
      'mcp.protocol.version': LATEST_PROTOCOL_VERSION,
    });
  }, 60_000);
});
