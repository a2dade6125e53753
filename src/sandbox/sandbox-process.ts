import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { SandboxReady } from './sandbox-files.js';
import { stopChild, supervise } from './local-service.js';

export interface SandboxProcess {
  /** What the sandbox wrote: day2.yaml, kubeconfigs, sandbox.env. */
  ready: SandboxReady;
  /** The variables of sandbox.env (credentials and endpoints). */
  env: Record<string, string>;
  pid: number;
  /** Settles when the sandbox process exits, with how it ended. */
  exited: Promise<string>;
  /** Closes its stdin (its signal to stop), then SIGTERM and SIGKILL if it lingers. Idempotent. */
  close(): Promise<void>;
}

/** The `day2` entry point beside this module: main.ts under tsx, main.js when built. */
function cliEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`../cli/main${self.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
}

/** Parses `NAME=value` lines (sandbox.env). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * Starts `day2 sandbox --watch-stdin` as a child and waits for its ready line. The child holds
 * a pipe from this process (its stdin) and stops when it closes, however this process ends; the
 * process reaper stops it too should it not. Its logs go to this process's stderr. Fails, with
 * how it ended, when it exits before it is ready or is not ready within `timeoutMs`.
 */
export async function startSandboxProcess(opts: {
  fleet?: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<SandboxProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // The server's loader flags (tsx when run from source), not a debugger's: a second
      // --inspect on the same port would stop the sandbox from starting.
      ...process.execArgv.filter((a) => !/^--inspect/.test(a)),
      cliEntry(),
      'sandbox',
      '--watch-stdin',
      ...(opts.fleet ? ['--fleet', opts.fleet] : []),
    ],
    // Its own process group: a Ctrl-C meant for the server reaches the sandbox through the server.
    { stdio: ['pipe', 'pipe', 'inherit'], env: opts.env, detached: true },
  );
  supervise(child);
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit code ${code}`));
    child.once('error', (err) => resolve(err.message));
  });
  const timeoutMs = opts.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  const lines = createInterface({ input: child.stdout! });
  try {
    const ready = await Promise.race([
      new Promise<SandboxReady>((resolve) => {
        lines.on('line', (line) => {
          try {
            const parsed = JSON.parse(line) as Partial<SandboxReady>;
            if (parsed.ready === true) resolve(parsed as SandboxReady);
          } catch {
            // Not the ready line.
          }
        });
      }),
      exited.then((how) => {
        throw new Error(`the sandbox process ended (${how}) before it was ready; its log is above`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the sandbox process was not ready within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
    const env = parseEnvFile(await readFile(ready.env, 'utf8'));
    let closing: Promise<void> | undefined;
    return {
      ready,
      env,
      pid: child.pid!,
      exited,
      close: () =>
        (closing ??= (async () => {
          child.stdin!.end();
          const ended = await Promise.race([
            exited.then(() => true),
            new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref()),
          ]);
          if (!ended) await stopChild(child);
        })()),
    };
  } catch (err) {
    await stopChild(child);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
