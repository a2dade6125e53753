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
  q: { env?: string; service?: string; since?: string; until?: string; limit?: number },
): Promise<Day2Action[]> {
  const limit = q.limit ?? 200;
  const base = { env: q.env, service: q.service, since: q.since, limit, desc: true };
  const [executes, outcomes] = await Promise.all([
    store.queryAudit({ ...base, event: 'tool.execute' }),
    store.queryAudit({ ...base, event: 'tool.outcome' }),
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
