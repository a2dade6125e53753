/** A load of one MCP request over HTTP from many sessions, and what came of it. */
import { percentile, round } from './stats.js';

export interface HttpLoad {
  url: string;
  headers: Record<string, string>;
  body: string;
  sessions: number;
  seconds: number;
}

export interface LoadResult {
  calls_per_s: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** The same load from this process with fetch, when wrk is not installed (it shares the cores). */
export async function fetchRun(
  load: HttpLoad,
  seconds: number,
  think: [number, number] | undefined,
): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  let firstError = '';
  const end = performance.now() + seconds * 1000;
  const session = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(load.url, {
          method: 'POST',
          headers: load.headers,
          body: load.body,
          signal: AbortSignal.timeout(5000),
        });
        const j = (await res.json()) as { result?: { isError?: boolean } };
        if (res.status !== 200 || !j.result || j.result.isError) {
          errors++;
          firstError ||= `${res.status} ${JSON.stringify(j).slice(0, 200)}`;
        }
      } catch (err) {
        errors++;
        firstError ||= (err as Error).message;
      }
      lat.push(performance.now() - t0);
      if (think) await new Promise((r) => setTimeout(r, think[0] + Math.random() * (think[1] - think[0])));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: load.sessions }, session));
  if (firstError) process.stderr.write(`  first HTTP error: ${firstError}\n`);
  return {
    calls_per_s: round(lat.length / ((performance.now() - t0) / 1000)),
    errors,
    p50_ms: round(percentile(lat, 50)),
    p99_ms: round(percentile(lat, 99)),
    max_ms: round(Math.max(...lat)),
  };
}
