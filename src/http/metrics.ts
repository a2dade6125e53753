/** Upper bounds (seconds) of the tool-call duration histogram. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Prometheus counters and histograms for the HTTP server: requests by path and status, tool calls
 * by tool and outcome, and tool-call durations. Rendered in the text exposition format.
 */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly calls = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();
  private readonly refused = new Map<string, number>();

  request(path: string, status: number): void {
    const key = `path="${label(path)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** outcome: ok, error (an isError result) or protocol_error (a JSON-RPC error). */
  toolCall(tool: string, outcome: 'ok' | 'error' | 'protocol_error', seconds: number): void {
    const key = `tool="${label(tool)}",outcome="${outcome}"`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const hkey = `tool="${label(tool)}"`;
    let h = this.durations.get(hkey);
    if (!h) this.durations.set(hkey, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.counts[i]! += 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  /** A connection closed unread because a cap (http.max_connections…) was reached. */
  connectionRefused(limit: string): void {
    this.refused.set(limit, (this.refused.get(limit) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    out.push(
      '# HELP day2_http_connections_refused_total Connections closed unread, by the cap they hit.',
      '# TYPE day2_http_connections_refused_total counter',
    );
    for (const [k, v] of this.refused)
      out.push(`day2_http_connections_refused_total{limit="${label(k)}"} ${v}`);
    out.push(
      '# HELP day2_http_requests_total HTTP requests by path and status.',
      '# TYPE day2_http_requests_total counter',
    );
    for (const [k, v] of this.requests) out.push(`day2_http_requests_total{${k}} ${v}`);
    out.push(
      '# HELP day2_tool_calls_total Tool calls by tool and outcome.',
      '# TYPE day2_tool_calls_total counter',
    );
    for (const [k, v] of this.calls) out.push(`day2_tool_calls_total{${k}} ${v}`);
    out.push(
      '# HELP day2_tool_call_duration_seconds Tool call duration.',
      '# TYPE day2_tool_call_duration_seconds histogram',
    );
    for (const [k, h] of this.durations) {
      BUCKETS.forEach((b, i) =>
        out.push(`day2_tool_call_duration_seconds_bucket{${k},le="${b}"} ${h.counts[i]}`),
      );
      out.push(`day2_tool_call_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`day2_tool_call_duration_seconds_sum{${k}} ${h.sum}`);
      out.push(`day2_tool_call_duration_seconds_count{${k}} ${h.count}`);
    }
    return out.join('\n') + '\n';
  }
}

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
