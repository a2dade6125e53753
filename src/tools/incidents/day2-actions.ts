import type { AuditRecord, Store } from '../../store/store.js';

/** A change day2 made (or tried to make) to a production system, read back from the audit log. */
export interface Day2Action {
  seq: number;
  at: string;
  tool: string;
  env?: string;
  service?: string;
  principal?: string;
  /** undefined while only the execute record exists (in flight, or the process died). */
  ok?: boolean;
  error?: string;
  action_digest?: string;
  targets: { kind: string; name: string; namespace?: string }[];
}

interface RawAudit {
  event?: string;
  tool?: string;
  env?: string;
  service?: string;
  principal?: string;
  action_digest?: string;
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

/**
 * day2's writes in a window, from `tool.execute` and `tool.outcome` audit events: one action per
 * execution, with the outcome when it is known. Newest first.
 */
export async function day2Actions(
  store: Store,
  q: { env?: string; service?: string; since?: string; limit?: number },
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
  for (const e of executes) {
    const rec = parse(e);
    if (!rec.tool) continue;
    const out = rec.action_digest ? outcomeByDigest.get(rec.action_digest) : undefined;
    if (out && !used.has(out.seq) && out.seq > e.seq) used.add(out.seq);
    const outcome = out && out.seq > e.seq ? out.outcome : undefined;
    actions.push({
      seq: e.seq,
      at: e.ts,
      tool: rec.tool,
      env: rec.env,
      service: rec.service,
      principal: rec.principal,
      ok: outcome?.ok,
      error: outcome?.error,
      action_digest: rec.action_digest,
      targets: (rec.targets ?? []).slice(0, 5),
    });
  }
  // Outcomes whose execute record fell outside the window or the limit still count as actions.
  for (const o of outcomes) {
    if (used.has(o.seq)) continue;
    const rec = parse(o);
    if (!rec.tool || actions.some((a) => a.action_digest && a.action_digest === rec.action_digest)) continue;
    actions.push({
      seq: o.seq,
      at: o.ts,
      tool: rec.tool,
      env: rec.env,
      service: rec.service,
      principal: rec.principal,
      ok: rec.outcome?.ok,
      error: rec.outcome?.error,
      action_digest: rec.action_digest,
      targets: (rec.targets ?? []).slice(0, 5),
    });
  }
  return actions.sort((a, b) => b.seq - a.seq).slice(0, limit);
}
