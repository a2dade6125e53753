import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import type { ApprovalRequest, Store } from '../store/store.js';
import { countedApprovers } from '../store/approval-state.js';

/** How often a waiting call reads the request again, and reports progress while nothing changes. */
const POLL_MS = 500;
const PROGRESS_EVERY_MS = 5_000;
/**
 * The longest wait: short of the MCP SDK's default 60 s request timeout, so that a client left at
 * its default gets the answer (still pending) rather than a timeout.
 */
export const MAX_APPROVAL_WAIT_MS = 55_000;

export interface WaitOptions {
  signal: AbortSignal;
  /** Reports how long it has waited (seconds, of `waitS`) and the approvals so far. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

/**
 * Waits, up to `waitS` seconds (at most MAX_APPROVAL_WAIT_MS), until the request is decided
 * (approved, denied, consumed) or expired, reading the store every POLL_MS and reporting progress
 * meanwhile. A cancelled call stops waiting at once. Returns the request as last read, or
 * undefined for an unknown id.
 */
export async function awaitApprovalDecision(
  store: Store,
  clock: Clock,
  id: string,
  waitS: number,
  opts: WaitOptions,
): Promise<ApprovalRequest | undefined> {
  const started = performance.now();
  const until = started + Math.min(waitS * 1000, MAX_APPROVAL_WAIT_MS);
  let reportedAt = -Infinity;
  let reported = -1;
  for (;;) {
    const r = await store.getApproval(id);
    if (!r || r.status !== 'pending' || Date.parse(r.expires_at) <= clock.now().getTime()) return r;
    const now = performance.now();
    if (now >= until) return r;
    const got = countedApprovers(r).length;
    if (got !== reported || now - reportedAt >= PROGRESS_EVERY_MS) {
      [reported, reportedAt] = [got, now];
      await opts
        .progress(
          Math.round((now - started) / 100) / 10,
          waitS,
          `waiting for approval: ${got} of ${r.policy.approvals_needed}`,
        )
        .catch(() => undefined);
    }
    await sleep(Math.min(POLL_MS, until - now), undefined, { signal: opts.signal });
  }
}
