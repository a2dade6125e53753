import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Fault injection shared by every emulator: answer with a status (5xx), throttle (429 with
 * Retry-After), add latency, or drop the connection. Rules are switched on per test and can be
 * limited to a method, a path pattern and a number of requests.
 */
export interface FaultRule {
  kind: 'status' | 'throttle' | 'latency' | 'drop';
  method?: string;
  /** Substring or pattern the request path (with query) must match. */
  path?: string | RegExp;
  /** HTTP status for `status` (default 500). */
  status?: number;
  /** Body to send with `status`/`throttle`; the emulator's own error shape when omitted. */
  body?: unknown;
  retryAfterSeconds?: number;
  latencyMs?: number;
  /** How many matching requests the rule applies to; unlimited when omitted. */
  times?: number;
}

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'status'; status: number; body?: unknown; retryAfterSeconds?: number }
  | { kind: 'drop' };

export class FaultInjector {
  private rules: (FaultRule & { used: number })[] = [];

  add(rule: FaultRule): this {
    this.rules.push({ ...rule, used: 0 });
    return this;
  }

  clear(): void {
    this.rules = [];
  }

  /** Applies latency rules (awaited) and returns the first status/throttle/drop rule that fires. */
  async decide(method: string, path: string): Promise<FaultAction> {
    for (const r of this.rules) {
      if (!this.matches(r, method, path)) continue;
      r.used++;
      if (r.kind === 'latency') {
        await new Promise((resolve) => setTimeout(resolve, r.latencyMs ?? 100));
        continue;
      }
      if (r.kind === 'drop') return { kind: 'drop' };
      if (r.kind === 'throttle')
        return { kind: 'status', status: 429, body: r.body, retryAfterSeconds: r.retryAfterSeconds ?? 1 };
      return { kind: 'status', status: r.status ?? 500, body: r.body };
    }
    return { kind: 'none' };
  }

  private matches(r: FaultRule & { used: number }, method: string, path: string): boolean {
    if (r.times !== undefined && r.used >= r.times) return false;
    if (r.method && r.method.toUpperCase() !== method.toUpperCase()) return false;
    if (r.path instanceof RegExp) return r.path.test(path);
    if (typeof r.path === 'string') return path.includes(r.path);
    return true;
  }
}

/** Ends the socket without an HTTP response, as a dropped connection looks to a client. */
export function dropConnection(req: IncomingMessage, res: ServerResponse): void {
  res.socket?.destroy();
  req.socket.destroy();
}
