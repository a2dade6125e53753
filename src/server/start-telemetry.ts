import {
  createNoopMeter,
  diag,
  DiagLogLevel,
  ProxyTracerProvider,
  type DiagLogger,
} from '@opentelemetry/api';
import type { TelemetrySettings } from '../config/telemetry-settings.js';
import type { Logger } from '../core/log.js';
import { DURATION_BUCKETS, noTelemetry, otelTelemetry, type Telemetry } from '../core/telemetry.js';
import { VERSION } from '../core/version.js';

/**
 * Starts exporting traces and metrics over OTLP/HTTP (JSON) as `settings` say; without settings
 * returns noTelemetry and loads nothing. The SDK packages are imported here and only here, when
 * configured. Nothing is registered globally except the SDK's diagnostic logger, which goes to
 * day2's log (stderr): stdout belongs to the stdio transport.
 */
export async function startTelemetry(
  settings: TelemetrySettings | undefined,
  log: Logger,
): Promise<Telemetry> {
  if (!settings) return noTelemetry;
  const [traceSdk, metricsSdk, traceExporter, metricExporter, resources, core] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ]);
  diag.setLogger(diagTo(log), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const resource = resources.resourceFromAttributes({
    ...settings.resource,
    'service.name': settings.serviceName,
    'service.version': VERSION,
  });
  const tracerProvider = settings.tracesUrl
    ? new traceSdk.BasicTracerProvider({
        resource,
        spanProcessors: [
          new traceSdk.BatchSpanProcessor(
            new traceExporter.OTLPTraceExporter({ url: settings.tracesUrl, headers: settings.tracesHeaders }),
          ),
        ],
      })
    : undefined;
  const meterProvider = settings.metricsUrl
    ? new metricsSdk.MeterProvider({
        resource,
        readers: [
          new metricsSdk.PeriodicExportingMetricReader({
            exporter: new metricExporter.OTLPMetricExporter({
              url: settings.metricsUrl,
              headers: settings.metricsHeaders,
            }),
            exportIntervalMillis: settings.metricIntervalMs,
            exportTimeoutMillis: Math.min(30_000, settings.metricIntervalMs),
          }),
        ],
      })
    : undefined;
  const meter = meterProvider?.getMeter('day2', VERSION) ?? createNoopMeter();
  const tracer = (tracerProvider ?? new ProxyTracerProvider()).getTracer('day2', VERSION);
  log.info('telemetry: exporting over OTLP/HTTP', {
    traces: settings.tracesUrl,
    metrics: settings.metricsUrl,
    service: settings.serviceName,
  });
  return otelTelemetry({
    tracer,
    duration: meter.createHistogram('mcp.server.operation.duration', {
      unit: 's',
      description: 'MCP request duration as observed on the server, from receipt until the result is sent.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    propagator: new core.W3CTraceContextPropagator(),
    async flush() {
      await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
    },
    async shutdown() {
      await Promise.all([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
    },
  });
}

function diagTo(log: Logger): DiagLogger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, ...args: unknown[]) =>
      log[level](`telemetry: ${message}`, args.length ? { detail: args.map(String).join(' ') } : undefined);
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), verbose: at('debug') };
}
