import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface SpawnSample {
  ms: number;
  rssMb: number;
}

/**
 * Starts an MCP server on stdio, sends initialize at once and times the answer; then reads the
 * idle resident set from /proc and stops the process.
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
      // Let the process settle before reading its resident set.
      setTimeout(() => {
        let rssMb = NaN;
        try {
          const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
          rssMb = kb ? Number(kb) / 1024 : NaN;
        } catch {
          // /proc is Linux only; the figure is then reported as unknown.
        }
        child.once('exit', () => resolve({ ms, rssMb }));
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }, 300);
    });
    child.stdin.write(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'day2-bench', version: '1' },
        },
      }) + '\n',
    );
  });
}
