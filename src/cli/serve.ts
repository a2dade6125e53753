import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadConfig } from '../config/load-config.js';
import { buildBackends, type BuiltBackends } from '../server/build-backends.js';
import { applyBackends, notReadyBackends } from '../server/runtime-backends.js';
import { startAccessReaper } from '../tools/access/reaper.js';
import { buildRuntime, type OwnedRuntime } from '../server/build-runtime.js';
import { createServer } from '../server/create-server.js';
import { localPrincipalId } from '../core/principal.js';
import { releaseStartupMemory } from '../server/idle-trim.js';
import { createLogger, type Logger } from '../core/log.js';
import { selectTools } from '../server/tool-catalog.js';
import { servedToolsets } from '../core/toolsets.js';
import { loadRegistry, type Registry } from '../server/registry.js';
import type { AnyTool } from '../contract/define-tool.js';
import { VERSION } from '../core/version.js';

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
  log?: Logger;
  /** Install SIGINT/SIGTERM (and stdin end) handlers that shut down and exit; default true. */
  signals?: boolean;
}

export interface ServeHandle {
  runtime: OwnedRuntime;
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
  const log = opts.log ?? createLogger();
  const loaded = loadConfig({ path: opts.config, env });
  // The transport answers initialize and tools/list at once; backends (for the sandbox: emulators,
  // Alertmanager, PostgreSQL roles) come up behind it, and calls that need them wait for them.
  let built: BuiltBackends | undefined;
  let markReady!: () => void;
  let markFailed!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => undefined);
  let loadTools!: () => void;
  const registry = new Promise<Registry>((resolve, reject) => {
    loadTools = () => void loadRegistry(opts.extraTools).then(resolve, reject);
  });
  const runtime: OwnedRuntime = await buildRuntime({
    loaded,
    log,
    backends: notReadyBackends,
    ready,
    // Loaded once the client is through initialize (see startBackends): on stdio the tool
    // modules are most of the start-up, and nothing needs them before tools/list.
    registry,
  });
  let backendsStarted = false;
  const startBackends = () => {
    if (backendsStarted) return;
    backendsStarted = true;
    loadTools();
    buildBackends(loaded, { sandbox: opts.sandbox, fleet: opts.fleet, log, env })
      .then(async (b) => {
        built = b;
        // Calls wait for the SDKs too: their first import takes seconds and would eat a call's timeout.
        await b.warmUp.catch((err: unknown) => log.warn('backend SDK warm-up failed', { error: err }));
        applyBackends(runtime, b);
        // Expired access grants are revoked even when nobody calls a tool.
        stopReaper = startAccessReaper(runtime, { intervalMs: loaded.config.access?.reap_interval });
        process.stderr.write(`day2: backends ready (${b.describe})\n`);
        markReady();
        // A stdio server mostly sits idle between a developer's questions.
        if (!opts.http) releaseStartupMemory(log);
      })
      .catch((err: unknown) => {
        log.error('backends failed to start', { error: err });
        process.stderr.write(
          `day2: backends failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        markFailed(err);
      });
  };
  let stopReaper: (() => Promise<void>) | undefined;
  const selection = {
    readOnly: opts.readOnly,
    toolsets: servedToolsets(opts.toolsets ?? loaded.config.toolsets),
  };
  const localPrincipal = localPrincipalId(env, loaded.config.principal);

  let closeTransport: () => Promise<void>;
  let where: string;
  let url: string | undefined;
  if (opts.http) {
    startBackends();
    await runtime.registryReady;
    // Loaded only for --http, so that a stdio start does not pay for the HTTP stack.
    const { startHttpServer } = await import('../http/http-server.js');
    const http = await startHttpServer({
      runtime,
      auditLog: runtime.auditLog,
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
    const server = createServer(runtime, {
      principal: { id: localPrincipal, transport: 'stdio' },
      ...selection,
    });
    // Start the backends once the client is through initialize (or shortly after start, whichever
    // comes first), so that loading them does not delay the first answer.
    server.oninitialized = startBackends;
    setTimeout(startBackends, 250).unref();
    await server.connect(new StdioServerTransport());
    closeTransport = () => server.close();
    where = 'on stdio';
  }
  // A registry that fails to load is reported by every handler through registryReady; this line
  // only says what is served, and must not turn that failure into an unhandled rejection.
  void runtime.registryReady?.then(
    () => {
      const served = selectTools(runtime.tools, selection).length;
      const of = selection.toolsets
        ? ` of ${selectTools(runtime.tools, { readOnly: selection.readOnly }).length} (toolsets ${selection.toolsets.join(', ')}; --toolsets all for every tool)`
        : '';
      process.stderr.write(
        `day2 ${VERSION} serving ${served} tools${of} ${where} (${opts.sandbox ? 'sandbox' : (loaded.path ?? 'no config file')}; backends starting)${opts.readOnly ? ', read-only' : ''}\n`,
      );
    },
    () => undefined,
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await stopReaper?.();
      for (const step of [closeTransport, () => runtime.close(), () => built?.close() ?? Promise.resolve()]) {
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
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    // The stdio client closing our stdin is the normal end of a stdio session.
    if (!opts.http) process.stdin.once('end', () => shutdown('stdin closed'));
  }
  return { runtime, url, close };
}
