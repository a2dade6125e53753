/**
 * The sandbox the way it was before `day2 sandbox` became its own process, for bench/sandbox-http.ts
 * to measure beside it: the emulators and `day2 serve --http` in one process, from dist/. Prints
 * one JSON line with the server's URL when ready; stops everything it started (Alertmanager, the
 * registry, its folder) on SIGTERM, SIGINT or when its standard input closes.
 *
 *   tsx bench/in-process-sandbox.ts <port> [fleet]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as StartSandbox from '../src/sandbox/start-sandbox.js';
import type * as SandboxFiles from '../src/sandbox/sandbox-files.js';
import type * as SandboxProcess from '../src/sandbox/sandbox-process.js';
import type * as Serve from '../src/cli/serve.js';
import type * as Log from '../src/core/log.js';
import type * as Redact from '../src/core/redact.js';

const DIST = resolve(import.meta.dirname, '..', 'dist', 'src');
const load = <T>(path: string) => import(join(DIST, path)) as Promise<T>;

const [port, fleet] = [Number(process.argv[2] ?? 0), process.argv[3]];
const [{ startSandbox }, { writeSandboxFiles }, { parseEnvFile }, { serve }, { createLogger }, { Redactor }] =
  await Promise.all([
    load<typeof StartSandbox>('sandbox/start-sandbox.js'),
    load<typeof SandboxFiles>('sandbox/sandbox-files.js'),
    load<typeof SandboxProcess>('sandbox/sandbox-process.js'),
    load<typeof Serve>('cli/serve.js'),
    load<typeof Log>('core/log.js'),
    load<typeof Redact>('core/redact.js'),
  ]);

const dir = mkdtempSync(join(tmpdir(), 'day2-bench-in-process-'));
const redactor = new Redactor();
const log = createLogger({ redactor, level: 'warn' });
const sandbox = await startSandbox({
  fleet: fleet ? resolve(fleet) : undefined,
  log,
  redactor,
  env: process.env,
  postgres: false,
  timing: { hpaSyncMs: 15_000 },
});
const served: { handle?: Serve.ServeHandle } = {};
let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= (async () => {
    await served.handle?.close().catch(() => undefined);
    await sandbox.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  })());
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
process.stdin.once('end', () => void stop()).resume();
const files = await writeSandboxFiles(sandbox, dir);
const handle = (served.handle = await serve({
  config: files.config,
  http: true,
  port,
  signals: false,
  log,
  env: { ...process.env, ...parseEnvFile(readFileSync(files.env, 'utf8')), DAY2_STORE: join(dir, 'day2.db') },
}));
await handle.ready;
process.stdout.write(`${JSON.stringify({ ready: true, url: handle.url })}\n`);
