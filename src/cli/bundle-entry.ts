#!/usr/bin/env node
import { EXIT_OK } from './io.js';
import { main } from './main.js';
import { startServeProcess } from '../server/optimizing-jit.js';

/**
 * The MCP Bundle's entry point (mcpb/manifest.json). Claude Desktop hands the install dialog's
 * settings over as environment variables, empty when left blank: DAY2_CONFIG_FILE (a day2.yaml
 * for real backends; blank serves the sandbox) and DAY2_TOOLSETS (comma-separated; blank takes
 * the configuration's or the default toolsets); the principal arrives as DAY2_PRINCIPAL. The
 * sandbox keeps its store at DAY2_SANDBOX_STORE (the manifest says ~/.day2/day2.db), since the
 * folder Claude Desktop starts a server in is not the user's; a configuration names its own.
 */
export function bundleServe(env: Record<string, string | undefined>): {
  args: string[];
  store?: string;
} {
  const config = env.DAY2_CONFIG_FILE?.trim();
  const toolsets = env.DAY2_TOOLSETS?.trim();
  const store = !config && !env.DAY2_STORE ? env.DAY2_SANDBOX_STORE?.trim() : undefined;
  return {
    args: [
      'serve',
      ...(config ? ['--config', config] : ['--sandbox']),
      ...(toolsets ? ['--toolsets', toolsets] : []),
    ],
    ...(store ? { store } : {}),
  };
}

if (process.argv[1]?.endsWith('bundle-entry.js')) {
  startServeProcess(process.execArgv, process.env);
  const { args, store } = bundleServe(process.env);
  if (store) process.env.DAY2_STORE = store;
  const code = await main(args);
  if (code === EXIT_OK) process.exitCode = code;
  else process.exit(code);
}
