import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { telemetrySettings } from '../../src/config/telemetry-settings.js';
import { silentLogger } from '../../src/core/log.js';
import type { Telemetry } from '../../src/core/telemetry.js';
import { startTelemetry } from '../../src/server/start-telemetry.js';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

// A governed write traced end to end through a real MCP client: day2 exports to an OTLP/HTTP
// receiver on loopback, which is all this test reads.
describe('OpenTelemetry: the span tree of a governed write', () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let h: SandboxHarness;
  let agent: Client;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const { settings, problems } = telemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'day2-test',
      // Metrics are flushed by the test, never on a timer.
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    expect(problems).toEqual([]);
    telemetry = await startTelemetry(settings, silentLogger);
    h = await startSandboxHarness({
      alertmanager: false,
      telemetry,
      config: { backends: { timeout: 20_000 } },
    });
    agent = await h.connect('agent-otel');
  });
  afterAll(async () => {
    await h?.close();
    await telemetry?.shutdown();
    await receiver?.close();
  });

  const call = async (name: string, args: Record<string, unknown>, meta?: Record<string, string>) =>
    (await agent.callTool({ name, arguments: args, ...(meta ? { _meta: meta } : {}) })) as CallToolResult;
  const sc = (r: CallToolResult) => r.structuredContent as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const exported = async () => {
    await h.rt.auditLog.flush();
    await telemetry.flush();
    return receiver.spans;
  };
  const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
    spans.filter((s) => s.parentSpanId === parent.spanId);
  const requestSpan = (spans: ReceivedSpan[], attribute: string, value: unknown) => {
    const found = spans.filter((s) => s.kind === SERVER && s.attributes[attribute] === value);
    expect(found, `one server span with ${attribute}=${String(value)}`).toHaveLength(1);
    return found[0]!;
  };

  it('plans, asks for approval, then executes the approved write, each a request span with its children', async () => {
    const env = 'prod';
    const live = h.sandbox.emulators.kubernetes[env]!.store.get('apps/v1', 'Deployment', 'checkout', 'cart');
    const before = (live as unknown as { spec: { replicas: number } }).spec.replicas;
    const args = { service: 'cart', env, replicas: before + 1 };
    const first = await call('scale_deployment', args);
    expect(sc(first).status).toBe('approval_required');
    const approvalId = sc(first).approval_id as string;
    const digest = sc(first).action_digest as string;
    await h.rt.approvals.approve(approvalId, 'alice', { channel: 'cli' });
    const token = sc(await call('get_approval', { approval_id: approvalId })).approval_token as string;
    expect(token).toMatch(/^d2t_/);

    // The caller's trace continues through day2.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const done = await call(
      'scale_deployment',
      { ...args, approval_token: token },
      { traceparent: `00-${callerTrace}-${callerSpan}-01`, tracestate: 'vendor=x' },
    );
    expect(done.isError, JSON.stringify(done.content)).toBeFalsy();
    expect(sc(done).status).toBe('executed');

    const spans = await exported();
    expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);

    // 1. The call that asked for approval.
    const asked = requestSpan(spans, 'day2.call.status', 'approval_required');
    expect(asked.name).toBe('tools/call scale_deployment');
    expect(asked.parentSpanId).toBeUndefined();
    expect(asked.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'scale_deployment',
      'gen_ai.operation.name': 'execute_tool',
      'network.transport': 'pipe',
      'day2.policy.decision': 'require_approval',
      'day2.approval.id': approvalId,
      'day2.action.digest': digest,
      'day2.env': env,
      'service.name': 'day2-test',
    });
    expect(typeof asked.attributes['jsonrpc.request.id']).toBe('string');
    const askedChildren = childrenOf(spans, asked);
    expect(askedChildren.every((s) => s.traceId === asked.traceId)).toBe(true);
    // The plan read the deployment from Kubernetes; the approval request was audited.
    expect(askedChildren).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'kubernetes getDeployment',
          kind: CLIENT,
          attributes: expect.objectContaining({ 'day2.backend': 'kubernetes', 'day2.env': env }),
        }),
        expect.objectContaining({
          name: 'day2 audit.append',
          attributes: expect.objectContaining({ 'day2.audit.event': 'tool.approval_required' }),
        }),
      ]),
    );

    // 2. The approved execution: a child of the caller's span, in the caller's trace.
    const executed = requestSpan(spans, 'day2.call.status', 'executed');
    expect(executed.name).toBe('tools/call scale_deployment');
    expect(executed.traceId).toBe(callerTrace);
    expect(executed.parentSpanId).toBe(callerSpan);
    expect(executed.attributes).toMatchObject({
      'day2.policy.decision': 'require_approval',
      'day2.approval.id': approvalId,
      'day2.action.digest': digest,
    });
    const children = childrenOf(spans, executed);
    expect(children.every((s) => s.traceId === callerTrace)).toBe(true);
    const names = children.map((s) => s.name);
    expect(names).toContain('kubernetes scaleDeployment');
    const appends = children.filter((s) => s.name === 'day2 audit.append');
    expect(appends.map((s) => s.attributes['day2.audit.event'])).toEqual(
      expect.arrayContaining(['tool.execute', 'tool.outcome']),
    );
    // The execute record is durable before the write: its span ends before the write's starts.
    const execute = appends.find((s) => s.attributes['day2.audit.event'] === 'tool.execute')!;
    expect(execute.attributes['day2.audit.durable']).toBe(true);
    // The plan's server-side dry run calls scaleDeployment too; the write is the last call.
    const write = children
      .filter((s) => s.name === 'kubernetes scaleDeployment')
      .reduce((a, b) => (b.start > a.start ? b : a));
    expect(
      execute.end <= write.start,
      `${execute.start}..${execute.end} vs ${write.start}..${write.end}`,
    ).toBe(true);

    // get_approval handed out a single-use token: it is in no span.
    expect(JSON.stringify(spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      token,
    );
  });

  it('records mcp.server.operation.duration, with error.type where a request failed', async () => {
    await expect(call('no_such_tool', {})).rejects.toThrow(/Unknown tool/);
    const denied = await call('get_service', { service: 'cart', env: 'nowhere' });
    expect(denied.isError).toBe(true);
    await exported();
    const points = receiver.points.filter((p) => p.metric === 'mcp.server.operation.duration');
    expect(points.every((p) => p.unit === 's')).toBe(true);
    expect(points).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          attributes: expect.objectContaining({
            'mcp.method.name': 'tools/call',
            'gen_ai.tool.name': 'scale_deployment',
            'gen_ai.operation.name': 'execute_tool',
          }),
        }),
        expect.objectContaining({
          attributes: expect.objectContaining({ 'gen_ai.tool.name': 'no_such_tool', 'error.type': '-32602' }),
        }),
        expect.objectContaining({
          attributes: expect.objectContaining({
            'gen_ai.tool.name': 'get_service',
            'error.type': 'tool_error',
          }),
        }),
      ]),
    );
    // Ids are span attributes, never metric dimensions.
    expect(
      points.some((p) => 'jsonrpc.request.id' in p.attributes || 'day2.approval.id' in p.attributes),
    ).toBe(false);
    const failed = receiver.spans.find((s) => s.name === 'tools/call no_such_tool');
    expect(failed?.status?.code).toBe(ERROR);
    expect(failed?.attributes['rpc.response.status_code']).toBe('-32602');
  });
});
