import type { AuditRecord, Store } from '../../../store/store.js';

/** A change day2 made (or tried to make) to a production system, read back from the audit log. */
export interface Day2Action {
  seq: number;
  at: string;
  tool: string;
  env?: string;
  service?: string;
  /** Who asked for it: the principal that redeemed the approval (only its requester can). */
  principal?: string;
  /** undefined while only the execute record exists (in flight, or the process died). */
  ok?: boolean;
  error?: string;
  action_digest?: string;
  /** The approval the write ran under; undefined where policy needed none. */
  approval_id?: string;
  targets: { kind: string; name: string; namespace?: string }[];
}

interface RawAudit {
  event?: string;
  tool?: string;
  env?: string;
  service?: string;
  principal?: string;
  action_digest?: string;
  approval?: { id?: unknown };
  targets?: { kind: string; name: string; namespace?: string }[];
  outcome?: { ok?: boolean; error?: string };
}

function parse(r: AuditRecord): RawAudit {
  try {
    return JSON.parse(r.record) as RawAudit;
  } catch {
    return {};
  }
}

function actionOf(r: AuditRecord, rec: RawAudit, outcome: RawAudit['outcome']): Day2Action {
  return {
    seq: r.seq,
    at: r.ts,
    tool: rec.tool!,
    env: rec.env,
    service: rec.service,
    principal: rec.principal,
    ok: outcome?.ok,
    error: outcome?.error,
    action_digest: rec.action_digest,
    ...(typeof rec.approval?.id === 'string' ? { approval_id: rec.approval.id } : {}),
    targets: (rec.targets ?? []).slice(0, 5),
  };
}

/**
 * day2's writes in a window, from `tool.execute` and `tool.outcome` audit events: one action per
 * execution, with the outcome when it is known. Newest first, at most `limit` (default 200).
 */
export async function day2Actions(
  store: Store,
  q: {
    env?: string;
    service?: string;
    since?: string;
    until?: string;
    limit?: number;
    /** Read the outcomes too (default). The ledger reads them only for what it shows: see day2Outcomes. */
    outcomes?: boolean;
  },
): Promise<Day2Action[]> {
  const limit = q.limit ?? 200;
  // A seq bound for the window, so that a window of a day does not make the store read every
  // older record (its newest-first scan cannot stop at a time).
  const after = q.since ? await seqBefore(store, q.since) : undefined;
  const base = {
    env: q.env,
    service: q.service,
    since: q.since,
    ...(after ? { afterSeq: after } : {}),
    limit,
    desc: true,
  };
  const [executes, outcomes] = await Promise.all([
    store.queryAudit({ ...base, event: 'tool.execute' }),
    q.outcomes === false ? [] : store.queryAudit({ ...base, event: 'tool.outcome' }),
  ]);
  const outcomeByDigest = new Map<string, RawAudit & { seq: number }>();
  for (const o of outcomes) {
    const rec = parse(o);
    // The newest outcome of a digest wins; digests are unique per approved action.
    if (rec.action_digest && !outcomeByDigest.has(rec.action_digest))
      outcomeByDigest.set(rec.action_digest, { ...rec, seq: o.seq });
  }
  const actions: Day2Action[] = [];
  const used = new Set<number>();
  const digests = new Set<string>();
  for (const e of executes) {
    const rec = parse(e);
    if (!rec.tool) continue;
    const out = rec.action_digest ? outcomeByDigest.get(rec.action_digest) : undefined;
    const outcome = out && out.seq > e.seq ? out.outcome : undefined;
    if (out && outcome) used.add(out.seq);
    if (rec.action_digest) digests.add(rec.action_digest);
    actions.push(actionOf(e, rec, outcome));
  }
  // Outcomes whose execute record fell outside the window or the limit still count as actions.
  for (const o of outcomes) {
    if (used.has(o.seq)) continue;
    const rec = parse(o);
    if (!rec.tool || (rec.action_digest && digests.has(rec.action_digest))) continue;
    actions.push(actionOf(o, rec, rec.outcome));
  }
  const until = q.until;
  return actions
    .filter((a) => until === undefined || a.at <= until)
    .sort((a, b) => b.seq - a.seq)
    .slice(0, limit);
}

/** Records appended in one batch may carry times slightly out of seq order: the bound keeps this margin. */
const SEQ_MARGIN = 1000;

/**
 * A seq below every record at or after `since`, found by bisection over seq (each probe a primary
 * key lookup): records are appended in time order, give or take a batch, hence the margin.
 */
async function seqBefore(store: Store, since: string): Promise<number> {
  const head = await store.auditHead();
  if (!head) return 0;
  const at = async (seq: number) => (await store.queryAudit({ afterSeq: seq - 1, limit: 1 }))[0];
  let lo = 0;
  let hi = head.seq;
  // Records up to lo are older than since; the one at hi is not, or is the head.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await at(mid);
    if (r && r.ts < since) lo = mid;
    else hi = mid;
  }
  return Math.max(0, lo - SEQ_MARGIN);
}

/**
 * The outcome of each of `actions` (executes read without theirs), by action digest: one bounded
 * read of the outcome records since the oldest of them.
 */
export async function day2Outcomes(
  store: Store,
  env: string | undefined,
  actions: readonly { seq: number; digest: string }[],
): Promise<Map<string, { ok?: boolean; error?: string }>> {
  const out = new Map<string, { ok?: boolean; error?: string }>();
  if (actions.length === 0) return out;
  const wanted = new Set(actions.map((a) => a.digest));
  const oldest = Math.min(...actions.map((a) => a.seq));
  const records = await store.queryAudit({
    env,
    event: 'tool.outcome',
    afterSeq: oldest,
    limit: 50_000,
    desc: true,
  });
  for (const r of records) {
    const rec = parse(r);
    if (rec.action_digest && wanted.has(rec.action_digest) && !out.has(rec.action_digest))
      out.set(rec.action_digest, { ok: rec.outcome?.ok, error: rec.outcome?.error });
  }
  return out;
}
