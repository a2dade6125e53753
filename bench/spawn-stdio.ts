import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface SpawnSample {
  ms: number;
  /** Resident set 300 ms after the answer, while start-up work may still run. */
  rssEarlyMb: number;
  /** Resident set once idle: IDLE_MS after the answer, with no request in between. */
  rssMb: number;
}

/** An MCP initialize request, as the one line a stdio client sends first. */
export const INITIALIZE_LINE =
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'day2-bench', version: '1' },
    },
  }) + '\n';

/** How long a server sits without requests before its resident set counts as idle. */
export const IDLE_MS = 2000;

/**
 * Starts an MCP server on stdio, sends initialize at once and times the answer; then reads its
 * resident set from /proc shortly after and once idle, and stops the process.
 */
export function spawnInitialize(
  command: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<SpawnSample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`no initialize answer within ${opts.timeoutMs ?? 15000} ms; stderr: ${err.slice(-500)}`),
      );
    }, opts.timeoutMs ?? 15000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!out.includes('\n')) return;
      const line = out.split('\n').find((l) => l.includes('"id":1'));
      if (!line) return;
      const ms = performance.now() - started;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      const rss = () => {
        try {
          const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
          return kb ? Number(kb) / 1024 : NaN;
        } catch {
          return NaN; // /proc is Linux only; the figure is then reported as unknown.
        }
      };
      let rssEarlyMb = NaN;
      setTimeout(() => (rssEarlyMb = rss()), 300);
      setTimeout(() => {
        const rssMb = rss();
        child.once('exit', () => resolve({ ms, rssEarlyMb, rssMb }));
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }, IDLE_MS);
    });
    child.stdin.write(INITIALIZE_LINE);
  });
}
