import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { processReaper } from './reaper.js';

/** A real binary serving on loopback. */
export interface LocalService {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  port: number;
  pid: number;
  /** Stops the process and removes its working folder. */
  close(): Promise<void>;
}

/**
 * Starts a binary on a loopback port and waits until `readyPath` answers. A port the OS picked can
 * be taken again before the binary binds it, so a start that fails is retried on another free port
 * (unless `port` fixes it). `dir` is the service's working folder: removed on close, and when every
 * attempt fails. `spawn` must start the binary `detached` (its own process group): the process
 * reaper ends that group and removes `dir` if this process dies without closing the service.
 */
export async function startOnLoopback(opts: {
  what: string;
  dir: string;
  readyPath: string;
  readyTimeoutMs: number;
  port?: number;
  spawn(port: number): ChildProcess | Promise<ChildProcess>;
}): Promise<LocalService> {
  const forgetDir = processReaper().watchDir(opts.dir);
  let lastError: unknown;
  for (let attempt = 0; attempt < (opts.port ? 1 : 3); attempt++) {
    const port = opts.port ?? (await freePort());
    const url = `http://127.0.0.1:${port}`;
    let child: ChildProcess | undefined;
    try {
      child = await opts.spawn(port);
      supervise(child);
      await waitUntilReady(child, opts.what, `${url}${opts.readyPath}`, opts.readyTimeoutMs);
      const started = child;
      return {
        url,
        port,
        pid: started.pid ?? -1,
        close: async () => {
          await stopChild(started);
          await rm(opts.dir, { recursive: true, force: true });
          forgetDir();
        },
      };
    } catch (err) {
      lastError = err;
      if (child) await stopChild(child);
    }
  }
  await rm(opts.dir, { recursive: true, force: true });
  forgetDir();
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/**
 * Plumbing for the real binaries the sandbox and the tests run on loopback (Alertmanager, the
 * Distribution registry): a free port, a readiness wait that notices an early exit, a clean stop.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls `probeUrl` until it answers 2xx. Fails with the process's last stderr when it exits first,
 * when it cannot be spawned (ENOENT), or when `timeoutMs` passes (the process is then stopped).
 */
export async function waitUntilReady(
  child: ChildProcess,
  what: string,
  probeUrl: string,
  timeoutMs: number,
): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-4000);
  });
  let exited: number | string | null | undefined;
  child.once('exit', (code, signal) => {
    exited = code ?? signal;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined)
      throw new Error(`${what} exited (${String(exited)}) before it was ready: ${stderr.trim()}`);
    try {
      const res = await fetch(probeUrl, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child);
  throw new Error(`${what} did not become ready at ${probeUrl} within ${timeoutMs} ms: ${stderr.trim()}`);
}

/**
 * Hands a child started `detached` to the process reaper until it exits: its owner stops it, or,
 * if the owner dies first, the reaper does.
 */
export function supervise(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const forget = processReaper().watchProcess(child.pid);
  child.once('exit', forget);
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
