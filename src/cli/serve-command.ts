import type { ServeOptions } from './serve.js';
import { DEFAULT_TOOLSETS, TOOLSET_CHOICES, TOOLSETS, unknownToolsets } from '../core/toolsets.js';
import { EXIT_OK, parseCommandArgs, UsageError, type Command } from './io.js';

/** Turns `day2 serve` arguments into ServeOptions (also used by the test fixture entry). */
export function parseServeArgs(args: string[]): ServeOptions & { help?: boolean } {
  const { values, positionals } = parseCommandArgs(args, {
    config: { type: 'string' },
    sandbox: { type: 'boolean' },
    fleet: { type: 'string' },
    http: { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string' },
    'read-only': { type: 'boolean' },
    toolsets: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (values.fleet && !values.sandbox) throw new UsageError('--fleet needs --sandbox');
  if ((values.host !== undefined || values.port !== undefined) && !values.http)
    throw new UsageError('--host and --port need --http');
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port: not a port number: ${values.port}`);
  }
  const toolsets = values.toolsets
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = unknownToolsets(toolsets ?? []);
  if (unknown.length)
    throw new UsageError(
      `--toolsets: unknown toolset ${unknown.map((n) => `"${n}"`).join(', ')}; valid: ${TOOLSET_CHOICES.join(', ')}`,
    );
  if (values.toolsets !== undefined && !toolsets?.length)
    throw new UsageError(`--toolsets: name at least one of ${TOOLSET_CHOICES.join(', ')}`);
  return {
    help: values.help,
    config: values.config,
    sandbox: values.sandbox,
    fleet: values.fleet,
    http: values.http,
    host: values.host,
    port,
    readOnly: values['read-only'],
    toolsets: toolsets?.length ? toolsets : undefined,
  };
}

/** `day2 serve`: the MCP server on stdio, or on Streamable HTTP with --http. */
export const serveCommand: Command = {
  usage: `Usage: day2 serve [--config F] [--sandbox [--fleet F]] [--http [--host H] [--port P]] [--read-only] [--toolsets a,b]

Serves day2's tools, resources and prompts to an MCP client.
  --config F      day2.yaml (default ./day2.yaml)
  --sandbox       use the built-in emulators and demo fleet instead of real backends
  --fleet F       a fleet file for the sandbox
  --http          serve Streamable HTTP on /mcp instead of stdio (with /healthz and /metrics)
  --host H        bind address (default 127.0.0.1; other addresses need http.tokens)
  --port P        port (default 8787)
  --read-only     register no write tool
  --toolsets a,b  serve only these toolsets (approvals is always on); "all" serves every tool.
                  Default: toolsets in day2.yaml, else ${DEFAULT_TOOLSETS.join(',')}.
                  Toolsets: ${TOOLSETS.join(', ')}
Logs go to stderr. DAY2_STORE overrides the store (SQLite path or postgres:// URL).`,

  async run(args, io) {
    const opts = parseServeArgs(args);
    // Imported here so that other commands do not load the transports.
    const { serve } = await import('./serve.js');
    await serve({ ...opts, env: io.env });
    return EXIT_OK;
  },
};
