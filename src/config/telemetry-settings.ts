/**
 * OpenTelemetry export settings, read from the standard OTEL_* variables. Telemetry is off unless
 * an OTLP endpoint is named and OTEL_SDK_DISABLED is not true; off, day2 loads no SDK at all.
 */
export interface TelemetrySettings {
  serviceName: string;
  /** Resource attributes from OTEL_RESOURCE_ATTRIBUTES (`k=v,k=v`). */
  resource: Record<string, string>;
  /** Full OTLP/HTTP URL for spans (…/v1/traces), or undefined when traces are not exported. */
  tracesUrl?: string;
  /** Full OTLP/HTTP URL for metrics (…/v1/metrics), or undefined when metrics are not exported. */
  metricsUrl?: string;
  /** Headers sent with every export (OTEL_EXPORTER_OTLP_HEADERS and the per-signal ones). */
  tracesHeaders: Record<string, string>;
  metricsHeaders: Record<string, string>;
  /** How often metrics are exported (OTEL_METRIC_EXPORT_INTERVAL, ms). */
  metricIntervalMs: number;
}

export interface TelemetrySettingsResult {
  /** Undefined: telemetry is off. */
  settings?: TelemetrySettings;
  /** One sentence per variable day2 cannot use, naming it. */
  problems: string[];
}

const DEFAULT_METRIC_INTERVAL_MS = 60_000;

/** The telemetry settings the environment asks for, and what is wrong with them. */
export function telemetrySettings(
  env: Readonly<Record<string, string | undefined>>,
): TelemetrySettingsResult {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { problems };

  const protocol = get('OTEL_EXPORTER_OTLP_PROTOCOL');
  for (const name of [
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  ]) {
    const p = get(name) ?? (name === 'OTEL_EXPORTER_OTLP_PROTOCOL' ? undefined : protocol);
    if (p !== undefined && p !== 'http/json')
      problems.push(
        `${name}=${p}: day2 exports OTLP over HTTP with the JSON encoding only; set http/json or unset it.`,
      );
  }
  const base = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const signal = (kind: 'traces' | 'metrics'): string | undefined => {
    const upper = kind.toUpperCase();
    const exporter = get(`OTEL_${upper}_EXPORTER`);
    if (exporter === 'none') return undefined;
    if (exporter !== undefined && exporter !== 'otlp')
      problems.push(`OTEL_${upper}_EXPORTER=${exporter}: day2 supports otlp or none.`);
    const own = get(`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`);
    // The per-signal variable is the full URL; the general one is a base the signal's path is added to.
    const url = own ?? (base ? `${base.replace(/\/+$/, '')}/v1/${kind}` : undefined);
    if (url === undefined) return undefined;
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      problems.push(
        `${own ? `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT` : 'OTEL_EXPORTER_OTLP_ENDPOINT'}=${own ?? base}: not an http(s) URL.`,
      );
      return undefined;
    }
    return url;
  };
  const tracesUrl = signal('traces');
  const metricsUrl = signal('metrics');
  const general = pairs('OTEL_EXPORTER_OTLP_HEADERS', get('OTEL_EXPORTER_OTLP_HEADERS'), problems);
  const interval = get('OTEL_METRIC_EXPORT_INTERVAL');
  let metricIntervalMs = DEFAULT_METRIC_INTERVAL_MS;
  if (interval !== undefined) {
    const n = Number(interval);
    if (Number.isInteger(n) && n > 0) metricIntervalMs = n;
    else problems.push(`OTEL_METRIC_EXPORT_INTERVAL=${interval}: a whole number of milliseconds, above 0.`);
  }
  const resource = pairs('OTEL_RESOURCE_ATTRIBUTES', get('OTEL_RESOURCE_ATTRIBUTES'), problems);
  if (!tracesUrl && !metricsUrl) return { problems };
  return {
    settings: {
      // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES, as the SDKs have it.
      serviceName: get('OTEL_SERVICE_NAME') ?? resource['service.name'] ?? 'day2',
      resource,
      tracesUrl,
      metricsUrl,
      tracesHeaders: {
        ...general,
        ...pairs('OTEL_EXPORTER_OTLP_TRACES_HEADERS', get('OTEL_EXPORTER_OTLP_TRACES_HEADERS'), problems),
      },
      metricsHeaders: {
        ...general,
        ...pairs('OTEL_EXPORTER_OTLP_METRICS_HEADERS', get('OTEL_EXPORTER_OTLP_METRICS_HEADERS'), problems),
      },
      metricIntervalMs,
    },
    problems,
  };
}

/** `k=v,k=v` with percent-encoded values, as the OTEL_* list variables are written. */
function pairs(name: string, value: string | undefined, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  for (const part of value.split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!key) {
      // The value may be a credential (headers): name the variable, never repeat the text.
      problems.push(`${name}: an entry is not key=value.`);
      continue;
    }
    let v = part.slice(eq + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch {
      problems.push(`${name}: the value of ${key} is not valid percent-encoding.`);
    }
    out[key] = v;
  }
  return out;
}
