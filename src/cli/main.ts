#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  EXIT_FAIL,
  EXIT_OK,
  EXIT_USAGE,
  processIo,
  println,
  UsageError,
  type CliIo,
  type Command,
} from './io.js';
import { VERSION } from '../core/version.js';
import { startServeProcess } from '../server/optimizing-jit.js';

// Loaded on use: each command pulls in only what it needs, and the compile cache is on first.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve-command.js')).serveCommand,
  approvals: async () => (await import('./approvals.js')).approvalsCommand,
  approve: async () => (await import('./approve.js')).approveCommand,
  deny: async () => (await import('./deny.js')).denyCommand,
  'audit verify': async () => (await import('./audit-verify.js')).auditVerifyCommand,
  'audit tail': async () => (await import('./audit-tail.js')).auditTailCommand,
  'audit export': async () => (await import('./audit-export.js')).auditExportCommand,
  'config check': async () => (await import('./config-check.js')).configCheckCommand,
  'access reap': async () => (await import('./access-reap.js')).accessReap,
  sandbox: async () => (await import('./sandbox.js')).sandboxCommand,
};

const USAGE = `day2 ${VERSION}: governed Day-2 operations over MCP

Usage: day2 <command> [options]   (day2 <command> --help for details)

  serve            serve the MCP server (stdio, or Streamable HTTP with --http)
  approvals        list pending approval requests
  approve <id>     show a request's plan and approve it
  deny <id>        deny a request
  audit verify     check the audit log's hash chain and signed checkpoints
  audit tail       print the newest audit records
  audit export     print audit records as JSON lines
  config check     validate day2.yaml
  access reap      revoke expired access grants (for cron; serve does it too)
  sandbox          run the emulated world as its own process and write how to connect to it

Exit codes: 0 done, 1 refused or failed, 2 wrong usage.`;

/** Runs one `day2` command and returns its exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    println(first ? io.stdout : io.stderr, USAGE);
    return first ? EXIT_OK : EXIT_USAGE;
  }
  if (first === '--version' || first === '-v') {
    println(io.stdout, VERSION);
    return EXIT_OK;
  }
  const twoWord = second !== undefined ? COMMANDS[`${first} ${second}`] : undefined;
  const load = twoWord ?? COMMANDS[first];
  if (!load) {
    const group = Object.keys(COMMANDS).filter((k) => k.startsWith(`${first} `));
    println(
      io.stderr,
      group.length
        ? `day2 ${first}: say which: ${group.join(', ')}`
        : `day2: unknown command "${first}"\n\n${USAGE}`,
    );
    return EXIT_USAGE;
  }
  const command = await load();
  const args = argv.slice(twoWord ? 2 : 1);
  if (args.includes('--help') || args.includes('-h')) {
    println(io.stdout, command.usage);
    return EXIT_OK;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      println(io.stderr, `day2: ${err.message}\n\n${command.usage}`);
      return EXIT_USAGE;
    }
    if (isConfigError(err)) {
      println(
        io.stderr,
        `day2: the configuration is not valid:\n${err.problems.map((p) => `  ${p}`).join('\n')}`,
      );
      return EXIT_FAIL;
    }
    if (err instanceof Error && err.name === 'StoreUnavailableError') {
      println(io.stderr, `day2: the store is unavailable: ${err.message}`);
      return EXIT_FAIL;
    }
    println(io.stderr, `day2: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAIL;
  }
}

/** ConfigError, recognised without loading the config module (and zod) for every command. */
function isConfigError(err: unknown): err is Error & { problems: string[] } {
  return (
    err instanceof Error &&
    err.name === 'ConfigError' &&
    Array.isArray((err as { problems?: unknown }).problems)
  );
}

function isEntryPoint(): boolean {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // Caches compiled code between runs: a stdio server is started by its client again and again.
  // A server starts without V8's optimizing compilers, which serve (serve.ts) turns on again once
  // it is ready: they would only hold memory for code that runs once (optimizing-jit.ts).
  if (process.argv[2] === 'serve') startServeProcess(process.execArgv, process.env);
  else enableCompileCache?.();
  const code = await main(process.argv.slice(2));
  // serve keeps running on its transport; every other command is done.
  if (process.argv[2] === 'serve' && code === EXIT_OK) process.exitCode = code;
  else process.exit(code);
}
