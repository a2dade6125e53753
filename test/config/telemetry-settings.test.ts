import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { telemetrySettings } from '../../src/config/telemetry-settings.js';
import { main } from '../../src/cli/main.js';
import { makeTestEnv } from '../fixtures/test-env.js';

describe('telemetrySettings (OTEL_*)', () => {
  it('is off with nothing set, and with OTEL_SDK_DISABLED=true whatever else is set', () => {
    expect(telemetrySettings({})).toEqual({ problems: [] });
    expect(
      telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'TRUE' })
        .settings,
    ).toBeUndefined();
  });

  it('adds each signal path to the general endpoint; a per-signal endpoint is used as it is', () => {
    const { settings, problems } = telemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics.example/otlp',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=ops',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=traces',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,service.name=ignored',
      OTEL_SERVICE_NAME: 'day2-eu',
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
    });
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      serviceName: 'day2-eu',
      resource: { 'deployment.environment.name': 'prod', 'service.name': 'ignored' },
      tracesUrl: 'http://collector:4318/v1/traces',
      metricsUrl: 'https://metrics.example/otlp',
      tracesHeaders: { authorization: 'Bearer abc', 'x-tenant': 'traces' },
      metricsHeaders: { authorization: 'Bearer abc', 'x-tenant': 'ops' },
      metricIntervalMs: 15000,
    });
  });

  it('exports one signal alone: OTEL_METRICS_EXPORTER=none, or only a traces endpoint', () => {
    const none = telemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_METRICS_EXPORTER: 'none',
    });
    expect(none.settings).toMatchObject({ tracesUrl: 'http://c:4318/v1/traces', metricsUrl: undefined });
    const only = telemetrySettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' });
    expect(only.settings).toMatchObject({ tracesUrl: 'http://c:4318/v1/traces', metricsUrl: undefined });
    expect(only.settings?.serviceName).toBe('day2');
  });

  it('names each variable it cannot use, and never repeats a header value', () => {
    const { settings, problems } = telemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_METRIC_EXPORT_INTERVAL: 'soon',
      OTEL_EXPORTER_OTLP_HEADERS: 'secret-token-value',
    });
    expect(settings).toBeUndefined();
    expect(problems.join('\n')).toContain('OTEL_EXPORTER_OTLP_PROTOCOL=grpc');
    expect(problems.join('\n')).toContain('OTEL_TRACES_EXPORTER=zipkin');
    expect(problems.join('\n')).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: not an http(s) URL');
    expect(problems.join('\n')).toContain('OTEL_METRIC_EXPORT_INTERVAL=soon');
    expect(problems.join('\n')).toContain('OTEL_EXPORTER_OTLP_HEADERS: an entry is not key=value');
    expect(problems.join('\n')).not.toContain('secret-token-value');
  });

  it('day2 config check fails on an OTEL_* variable it cannot use and says where telemetry goes', async () => {
    const t = makeTestEnv();
    try {
      const check = async (env: Record<string, string>) => {
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        let out = '';
        stdout.on('data', (d: Buffer) => (out += d.toString()));
        stderr.on('data', (d: Buffer) => (out += d.toString()));
        const clean = Object.fromEntries(Object.entries(t.env).filter(([k]) => !k.startsWith('OTEL_')));
        const code = await main(['config', 'check', '--config', t.configPath], {
          stdout,
          stderr,
          stdin: new PassThrough(),
          env: { ...clean, ...env },
          cwd: t.dir,
        });
        return { code, out };
      };
      expect(await check({})).toMatchObject({ code: 0, out: expect.stringContaining('telemetry off') });
      expect(await check({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toMatchObject({
        code: 0,
        out: expect.stringContaining('telemetry on (service day2: traces to http://127.0.0.1:4318/v1/traces'),
      });
      const bad = await check({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
      expect(bad.code).toBe(1);
      expect(bad.out).toContain('OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf');
    } finally {
      t.cleanup();
    }
  });
});
