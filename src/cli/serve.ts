import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadConfig } from '../config/load-config.js';
import { buildBackends, withEnvironments, type BuiltBackends } from '../server/build-backends.js';
import { startAccessReaper } from '../tools/access/reaper.js';
import { childProcessBindingScan } from '../server/cluster-read-process.js';
import { assembleRuntime, openRuntimeCore, type OwnedRuntime } from '../server/build-runtime.js';
import { createServer } from '../server/create-server.js';
import { localPrincipalId } from '../core/principal.js';
import { releaseStartupMemory } from '../server/idle-trim.js';
import { resumeOptimizingJit } from '../server/optimizing-jit.js';
import { createLogger, type Logger } from '../core/log.js';
import { Redactor } from '../core/redact.js';
import { logLevelFrom } from '../config/log-level.js';
import { selectTools } from '../server/tool-catalog.js';
import { servedToolsets } from '../core/toolsets.js';
import { loadRegistry, type Registry } from '../server/registry.js';
import type { AnyTool } from '../contract/define-tool.js';
import { VERSION } from '../core/version.js';
import { telemetrySettings } from '../config/telemetry-settings.js';
import { startTelemetry } from '../server/start-telemetry.js';

/** What `day2 serve` accepts. */
export interface ServeOptions {
  config?: string;
  sandbox?: boolean;
  fleet?: string;
  http?: boolean;
  host?: string;
  port?: number;
  readOnly?: boolean;
  /** Toolsets to serve; `all` for every tool. Default: `toolsets` in day2.yaml, else DEFAULT_TOOLSETS. */
  toolsets?: string[];
}

export interface ServeExtras {
  /** Added to the registry (tests serve test-only tools this way). */
  extraTools?: readonly AnyTool[];
  env?: NodeJS.ProcessEnv;
  /** Replaces the stderr logger (tests pass silentLogger); it masks secrets with a redactor of its own. */
  log?: Logger;
  /** Install SIGINT/SIGTERM (and stdin end) handlers that shut down and exit; default true. */
  signals?: boolean;
}

export interface ServeHandle {
  /**
   * The runtime, once built: before serve returns with --http; on stdio once the backends are up
   * (reading it earlier throws; await `ready`).
   */
  readonly runtime: OwnedRuntime;
  /** Settles with the runtime once it is built. */
  ready: Promise<OwnedRuntime>;
  /** The MCP endpoint, for --http. */
  url?: string;
  /** Closes transports, flushes the audit log, closes the store and the backends. Idempotent. */
  close(): Promise<void>;
}

/**
 * The entry point's wiring: config → backends → runtime → transport → shutdown on signals.
 * Everything it prints goes to stderr; stdout belongs to the stdio transport.
 */
export async function serve(opts: ServeOptions & ServeExtras): Promise<ServeHandle> {
  const env = opts.env ?? process.env;
  // One per runtime: the secrets its providers handle are masked in everything it sends or logs.
  const redactor = new Redactor();
  const log = opts.log ?? createLogger({ redactor, level: logLevelFrom(env) });
  const loaded = loadConfig({ path: opts.config, env });
  // Store, audit log, policy and keys first: a configuration error stops the server before it
  // answers anything.
  // OTEL_*: off unless an endpoint is set, and then the SDK is loaded; a variable day2 cannot use
  // is named in the log (day2 config check lists them too) and never stops the server.
  const otel = telemetrySettings(env);
  for (const problem of otel.problems) log.warn(`telemetry: ${problem}`);
  const telemetry = await startTelemetry(otel.settings, log);
  let core;
  try {
    // A stdio server has one client: its SQLite store stays on this thread (a worker thread
    // would cost 15–20 MB and a tenth of a second at start); HTTP serves many sessions at once.
    core = await openRuntimeCore({
      loaded,
      log,
      redactor,
      env,
      telemetry,
      storeThread: opts.http ? 'worker' : 'caller',
    });
  } catch (err) {
    await telemetry.shutdown().catch(() => undefined);
    throw err;
  }
  // The transport answers initialize and tools/list at once; backends (for the sandbox: emulators,
  // Alertmanager, PostgreSQL roles) come up behind it, and the runtime is built, complete, once
  // they are: calls wait for it.
  let built: BuiltBackends | undefined;
  let stopReaper: (() => Promise<void>) | undefined;
  let loadTools!: () => void;
  const registry = new Promise<Registry>((resolve, reject) => {
    loadTools = () => void loadRegistry(opts.extraTools).then(resolve, reject);
  });
  let startRuntime!: () => void;
  const runtime = new Promise<OwnedRuntime>((resolve, reject) => {
    startRuntime = () => {
      loadTools();
      void (async () => {
        const b = await buildBackends(loaded, {
          // Read the clusters from a child process while this one has no Kubernetes client.
          clusterReadsInChild: true,
          sandbox: opts.sandbox,
          fleet: opts.fleet,
          log,
          redactor,
          env,
        });
        built = b;
        // The sandbox process is the backends: a server without it can only fail, so it stops.
        void b.lost?.then((how) => backendsLost(how));
        // The backends' SDKs load on first use (sdk-loads.ts): an idle server holds none of them.
        const rt = assembleRuntime(core, {
          loaded: withEnvironments(loaded, b),
          backends: b.backends,
          catalog: b.catalog,
          registry: await registry,
        });
        // Expired access grants are revoked even when nobody calls a tool.
        stopReaper = startAccessReaper(rt, {
          intervalMs: rt.deps.config.access?.reap_interval,
          // The clusters are read in a child process until this one has the Kubernetes client.
          scan: childProcessBindingScan({
            backends: b.backends,
            connection: b.connection,
            log,
            intervalMs: rt.deps.config.access?.scan_interval,
            // Read with the live labels a moment ago: the first pass starts no child of its own.
            first: b.startBindings,
          }),
        });
        process.stderr.write(`day2: backends ready (${b.describe})\n`);
        return rt;
      })().then(resolve, reject);
    };
  });
  runtime.then(
    // A stdio server mostly sits idle between a developer's questions; V8's optimizing compilers,
    // off while it started (optimizing-jit.ts), are on again once start-up memory is given back.
    () => (opts.http ? resumeOptimizingJit() : releaseStartupMemory(log, { then: resumeOptimizingJit })),
    (err: unknown) => {
      resumeOptimizingJit();
      log.error('backends failed to start', { error: err });
      process.stderr.write(
        `day2: backends failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    },
  );
  let backendsLost = (how: string) => {
    log.error('the sandbox process ended; its backends are gone', { how });
  };
  let started = false;
  const start = () => {
    if (started) return;
    started = true;
    startRuntime();
  };
  const selection = {
    readOnly: opts.readOnly,
    toolsets: servedToolsets(opts.toolsets ?? loaded.config.toolsets),
  };
  const localPrincipal = localPrincipalId(env, loaded.config.principal);

  let closeTransport: () => Promise<void>;
  let where: string;
  let url: string | undefined;
  if (opts.http) {
    start();
    let rt: OwnedRuntime;
    try {
      // An HTTP server is a long-lived service behind probes: it listens once it can serve.
      rt = await runtime;
    } catch (err) {
      await core.close().catch(() => undefined);
      await built?.close().catch(() => undefined);
      await telemetry.shutdown().catch(() => undefined);
      throw err;
    }
    // Loaded only for --http, so that a stdio start does not pay for the HTTP stack.
    const { startHttpServer } = await import('../http/http-server.js');
    const http = await startHttpServer({
      runtime: rt,
      auditLog: rt.auditLog,
      selection,
      http: {
        ...loaded.config.http,
        host: opts.host ?? loaded.config.http.host,
        port: opts.port ?? loaded.config.http.port,
      },
      env,
      localPrincipal,
      log,
    });
    closeTransport = () => http.close();
    url = http.url;
    where = `on ${http.url}`;
  } else {
    const server = createServer(
      { registry, runtime, telemetry },
      { principal: { id: localPrincipal, transport: 'stdio' }, ...selection },
    );
    // Start the backends once the client is through initialize (or shortly after start, whichever
    // comes first), so that loading them does not delay the first answer.
    server.oninitialized = start;
    setTimeout(start, 250).unref();
    await server.connect(new StdioServerTransport());
    closeTransport = () => server.close();
    where = 'on stdio';
  }
  // A registry that fails to load is reported by every handler; this line only says what is
  // served, and must not turn that failure into an unhandled rejection.
  void registry.then(
    (r) => {
      const served = selectTools(r.tools, selection).length;
      const of = selection.toolsets
        ? ` of ${selectTools(r.tools, { readOnly: selection.readOnly }).length} (toolsets ${selection.toolsets.join(', ')}; --toolsets all for every tool)`
        : '';
      process.stderr.write(
        `day2 ${VERSION} serving ${served} tools${of} ${where} (${opts.sandbox ? 'sandbox' : (loaded.path ?? 'no config file')}; backends ${opts.http ? 'ready' : 'starting'})${opts.readOnly ? ', read-only' : ''}\n`,
      );
    },
    (err: unknown) => log.error('registry failed to load', { error: err }),
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await stopReaper?.();
      for (const step of [
        closeTransport,
        () => core.close(),
        () => built?.close() ?? Promise.resolve(),
        // Last: the spans of the final calls and the audit flush are exported.
        () => telemetry.shutdown(),
      ]) {
        try {
          await step();
        } catch (err) {
          log.error('shutdown step failed', { error: err });
        }
      }
    })());

  if (opts.signals !== false) {
    const shutdown = (why: string) => {
      log.info('shutting down', { reason: why });
      void close().finally(() => {
        // Anything still holding the loop (a slow backend socket) must not keep a stopped server alive.
        setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
      });
    };
    backendsLost = (how) => {
      process.stderr.write(`day2: the sandbox process ended (${how}); its backends are gone, stopping\n`);
      process.exitCode = 1;
      shutdown('sandbox process ended');
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    // The stdio client closing our stdin is the normal end of a stdio session.
    if (!opts.http) process.stdin.once('end', () => shutdown('stdin closed'));
  }
  let builtRuntime: OwnedRuntime | undefined;
  runtime.then(
    (rt) => (builtRuntime = rt),
    () => undefined,
  );
  return {
    get runtime() {
      if (!builtRuntime) throw new Error('the runtime is still being built: await ready');
      return builtRuntime;
    },
    ready: runtime,
    url,
    close,
  };
}
