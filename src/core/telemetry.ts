import { AsyncLocalStorage } from 'node:async_hooks';
import {
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Histogram,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';

/** One MCP request as the MCP semantic conventions describe it. */
export interface McpRequestFacts {
  /** `mcp.method.name`: tools/call, resources/read, prompts/get, ... */
  method: string;
  /** The tool (tools/call) or prompt (prompts/get) it concerns: the span name's target. */
  tool?: string;
  prompt?: string;
  /** `mcp.resource.uri`, for resources/read. */
  resourceUri?: string;
  /** `jsonrpc.request.id`. */
  requestId?: string | number;
  /** `mcp.session.id`, where the transport has sessions. */
  sessionId?: string;
  /** `mcp.protocol.version`, where the request says it (the MCP-Protocol-Version header on HTTP). */
  protocolVersion?: string;
  /** `network.transport`: pipe (stdio) or tcp (HTTP). */
  transport?: 'pipe' | 'tcp';
  /** The request's `params._meta`: a `traceparent` (and `tracestate`) there continues the caller's trace. */
  meta?: Record<string, unknown>;
}

/**
 * Traces and metrics for one runtime. `noTelemetry` is what runs when nothing is configured: each
 * method calls straight through, and no SDK is loaded (see startTelemetry).
 */
export interface Telemetry {
  readonly enabled: boolean;
  /**
   * Runs one MCP request in a server span named `{mcp.method.name} {target}` and records
   * `mcp.server.operation.duration`. A tools/call result with `isError` counts as failed (`tool_error`).
   */
  request<T>(facts: McpRequestFacts, fn: () => Promise<T>): Promise<T>;
  /**
   * Runs `fn` as a child of the current request: a span when it returns a promise (a backend call,
   * an audit append), nothing when it answers at once (a getter, a synchronous helper).
   */
  span<T>(name: string, kind: 'client' | 'internal', attributes: Attributes, fn: () => T): T;
  /** Adds attributes to the current request's span (day2's policy decision, approval id, digest). */
  annotate(attributes: Attributes): void;
  /** Exports what is buffered now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export const noTelemetry: Telemetry = Object.freeze({
  enabled: false,
  request: <T>(_facts: McpRequestFacts, fn: () => Promise<T>) => fn(),
  span: <T>(_name: string, _kind: 'client' | 'internal', _attributes: Attributes, fn: () => T) => fn(),
  annotate: () => undefined,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
});

/** What an SDK hands the instrumentation: built by startTelemetry, or by a test. */
export interface TelemetryParts {
  tracer: Tracer;
  /** `mcp.server.operation.duration`, in seconds. */
  duration: Histogram;
  /** Reads `traceparent`/`tracestate` (W3C trace context). */
  propagator: TextMapPropagator;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The bucket boundaries the MCP conventions advise for `mcp.server.operation.duration` (s). */
export const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

interface Active {
  context: Context;
  request: Span;
}

/** Instrumentation over an SDK's tracer and histogram; the current request travels in AsyncLocalStorage. */
export function otelTelemetry(parts: TelemetryParts): Telemetry {
  const active = new AsyncLocalStorage<Active>();
  const { tracer, duration, propagator } = parts;
  return {
    enabled: true,
    async request<T>(facts: McpRequestFacts, fn: () => Promise<T>): Promise<T> {
      const parent =
        facts.meta && typeof facts.meta.traceparent === 'string'
          ? propagator.extract(ROOT_CONTEXT, facts.meta, defaultTextMapGetter)
          : ROOT_CONTEXT;
      const target = facts.tool ?? facts.prompt;
      const common = commonAttributes(facts);
      const span = tracer.startSpan(
        target ? `${facts.method} ${target}` : facts.method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            ...common,
            'jsonrpc.request.id': facts.requestId === undefined ? undefined : String(facts.requestId),
            'mcp.session.id': facts.sessionId,
            'mcp.resource.uri': facts.resourceUri,
          },
        },
        parent,
      );
      const started = performance.now();
      let errorType: string | undefined;
      try {
        const result = await active.run({ context: trace.setSpan(parent, span), request: span }, fn);
        if (isToolError(result)) errorType = 'tool_error';
        return result;
      } catch (err) {
        errorType = errorTypeOf(err);
        // The JSON-RPC error code, never the message: a message may quote a model's or a backend's text.
        const code = (err as { code?: unknown } | null)?.code;
        if (typeof code === 'number') span.setAttribute('rpc.response.status_code', String(code));
        throw err;
      } finally {
        if (errorType !== undefined) {
          span.setAttribute('error.type', errorType);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
        duration.record((performance.now() - started) / 1000, {
          ...common,
          ...(errorType !== undefined ? { 'error.type': errorType } : {}),
        });
      }
    },
    span<T>(name: string, kind: 'client' | 'internal', attributes: Attributes, fn: () => T): T {
      // Wall-clock milliseconds, the clock the SDK ends a span with a given start time on.
      const startTime = Date.now();
      const result = fn();
      if (!isThenable(result)) return result;
      const span = tracer.startSpan(
        name,
        { kind: kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes, startTime },
        active.getStore()?.context ?? ROOT_CONTEXT,
      );
      return result.then(
        (value) => {
          span.end();
          return value;
        },
        (err: unknown) => {
          span.setAttribute('error.type', errorTypeOf(err));
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          throw err;
        },
      ) as T;
    },
    annotate(attributes: Attributes): void {
      active.getStore()?.request.setAttributes(attributes);
    },
    flush: () => parts.flush(),
    shutdown: () => parts.shutdown(),
  };
}

/** What span and metric share: low-cardinality facts only (no session or request ids). */
function commonAttributes(f: McpRequestFacts): Attributes {
  const a: Attributes = { 'mcp.method.name': f.method };
  if (f.tool !== undefined) {
    a['gen_ai.tool.name'] = f.tool;
    a['gen_ai.operation.name'] = 'execute_tool';
  }
  if (f.prompt !== undefined) a['gen_ai.prompt.name'] = f.prompt;
  if (f.protocolVersion !== undefined) a['mcp.protocol.version'] = f.protocolVersion;
  if (f.transport !== undefined) a['network.transport'] = f.transport;
  return a;
}

function isToolError(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { isError?: unknown }).isError === true;
}

/** `error.type`: a JSON-RPC error's code, a typed error's name, else `_OTHER`. */
function errorTypeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return String(code);
  if (err instanceof Error && err.name && err.name !== 'Error') return err.name;
  return '_OTHER';
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
