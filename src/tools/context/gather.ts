import { BackendNotConfiguredError } from '../../providers/backends.js';
import { describeBackendError } from '../../providers/describe-error.js';
import { withTimeout } from '../../core/with-timeout.js';
import { sdkLoaded } from '../../providers/sdk-loads.js';

/** A backend that could not be read for an answer, and why. Answers carry these, never hide them. */
export interface Gap {
  backend: string;
  env?: string;
  reason: string;
}

/**
 * Runs independent reads in parallel, each bounded by `timeoutMs` once its backend's SDK is loaded
 * (the first use of an SDK imports it; that is not the backend being slow). Failures become gaps;
 * the answer is built from whatever did arrive. An environment without that backend is not a gap.
 */
export async function gather<T>(
  tasks: { backend: string; env?: string; run: () => Promise<T> }[],
  timeoutMs: number,
): Promise<{ results: { backend: string; env?: string; value: T }[]; gaps: Gap[] }> {
  const settled = await Promise.all(
    tasks.map(async (t) => {
      try {
        await sdkLoaded(t.backend);
        return {
          ok: true as const,
          t,
          value: await withTimeout(t.run(), timeoutMs, `${t.backend} did not answer within ${timeoutMs} ms`),
        };
      } catch (err) {
        return { ok: false as const, t, err };
      }
    }),
  );
  const results: { backend: string; env?: string; value: T }[] = [];
  const gaps: Gap[] = [];
  for (const s of settled) {
    if (s.ok) results.push({ backend: s.t.backend, env: s.t.env, value: s.value });
    else if (!(s.err instanceof BackendNotConfiguredError))
      gaps.push({ backend: s.t.backend, env: s.t.env, reason: gapReason(s.err) });
  }
  return { results, gaps };
}

export function gapReason(err: unknown): string {
  const described = describeBackendError(err);
  if (described) return described.message;
  if (err instanceof Error && err.name === 'TimeoutError') return err.message;
  return err instanceof Error ? err.message.slice(0, 200) : 'failed';
}

/** Caps untrusted backend text: one line, at most `max` characters. It stays data. */
export function untrusted(text: string | null | undefined, max = 200): string {
  if (!text) return '';
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}
