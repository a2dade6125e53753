import type { AuditRecord, Store } from '../../store/store.js';
import { countedApprovers } from '../../store/approval-state.js';

/** What became of an action: done (`ok`), `failed` while running, `refused` before running, or still `pending`. */
export const ACTION_OUTCOMES = ['ok', 'failed', 'refused', 'pending'] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

/** One action as the audit log tells it: its records joined into one line. */
export interface AuditAction {
  /** The seq of the record that opened the action: the position a cursor continues from. */
  seq: number;
  when: string;
  tool: string;
  env?: string;
  target?: string;
  requester?: string;
  approvers: string[];
  outcome: ActionOutcome;
  /** The specifics: executed, dry run, awaiting approval, refused and why, the error. */
  detail: string;
  summary: string;
  approval_id?: string;
}

export interface ActionQuery {
  tool?: string;
  env?: string;
  service?: string;
  /** The requester: the principal that made the call. */
  principal?: string;
  since?: string;
  outcome?: ActionOutcome;
  /** Only actions opened before this seq (the cursor). */
  beforeSeq?: number;
  /** Only actions opened at or before this seq: the head of the log when the first page was read. */
  top?: number;
  limit: number;
  /** Records read at most before the search hands back a cursor (default SCAN_CAP). */
  scanCap?: number;
}

interface Rec {
  event?: string;
  tool?: string;
  resource?: string;
  env?: string;
  service?: string;
  principal?: string;
  call?: string;
  summary?: string;
  args?: unknown;
  targets?: { kind?: string; name?: string; namespace?: string }[];
  approval?: { id?: unknown; channel?: unknown };
  outcome?: { ok?: boolean; error?: string };
  detail?: { why?: unknown; message?: unknown; grant_id?: unknown };
}

const BATCH = 200;
/** Records one search reads at most before it hands back a cursor: a rare filter costs pages, not a scan of the log. */
export const SCAN_CAP = 4000;

/**
 * The records that open an action. Everything else joins one: `approval.*` records and a write's
 * `tool.execute` and `tool.outcome` join the request they redeem (by approval id) or the call they
 * belong to (by call id); resource reads are not actions.
 */
function opens(rec: Rec): boolean {
  // The stores' `opensAction` filter says the same in SQL: countActions counts with it.
  const e = rec.event ?? '';
  if (e === 'resource.read' || e.startsWith('approval.') || e === 'tool.outcome') return false;
  if (e === 'tool.execute') return typeof rec.approval?.id !== 'string';
  return true;
}

/**
 * day2's actions, newest first: per action one line, joining its request, approvals, execution and
 * outcome. Reads at most SCAN_CAP records; `scannedTo` is where a further search would continue
 * when the scan stopped before `limit` actions were found.
 */
export async function auditActions(
  store: Store,
  q: ActionQuery,
): Promise<{ actions: AuditAction[]; more: boolean; scannedTo?: number; head?: number }> {
  const actions: AuditAction[] = [];
  let before = q.beforeSeq;
  let scanned = 0;
  let head: number | undefined;
  // Scanning newest first from the head, every record newer than an action's opening has been
  // read before the action is: its joins come from here, without asking the store again. From a
  // cursor, records above it were not read, and the store is asked.
  const seen: Seen | undefined =
    q.beforeSeq === undefined
      ? { byApproval: new Map(), byCall: new Map(), othersRead: q.principal === undefined }
      : undefined;
  for (;;) {
    const rows = await store.queryAudit({
      tool: q.tool,
      env: q.env,
      service: q.service,
      principal: q.principal,
      since: q.since,
      excludeEvent: 'resource.read',
      beforeSeq: before,
      limit: BATCH,
      desc: true,
    });
    if (seen) for (const row of rows) remember(seen, parse(row));
    // The newest record read is the top of the log for the pages that follow this one.
    head ??= rows[0]?.seq ?? 0;
    const opening = rows.flatMap((row) => {
      const rec = parse(row);
      return opens(rec) && (q.top === undefined || row.seq <= q.top) ? [{ row, rec }] : [];
    });
    // Joined as many at a time as the page still needs, together: a slow store costs one wait per
    // chunk rather than one per action, and no action past the page is joined.
    for (let i = 0; i < opening.length;) {
      const chunk = opening.slice(i, i + q.limit - actions.length + 1);
      i += chunk.length;
      for (const action of await Promise.all(chunk.map((o) => joinAction(store, o.row, o.rec, seen)))) {
        if (q.outcome && action.outcome !== q.outcome) continue;
        if (actions.length === q.limit) return { actions, more: true, head };
        actions.push(action);
      }
    }
    scanned += rows.length;
    const last = rows.at(-1);
    if (rows.length < BATCH || !last) return { actions, more: false, head };
    before = last.seq;
    if (scanned >= (q.scanCap ?? SCAN_CAP)) return { actions, more: true, scannedTo: last.seq, head };
  }
}

/** Actions with one more than this many candidates are not joined to count those of one outcome. */
const OUTCOME_COUNT_CAP = 2000;

/**
 * How many actions match, in the log up to `top`. Without an outcome it is one count in the
 * store; an outcome is known only once an action is joined, so up to OUTCOME_COUNT_CAP candidates
 * are joined and counted, and beyond that only the candidates' count is known (`atMost`).
 */
export async function countActions(
  store: Store,
  q: Omit<ActionQuery, 'limit' | 'beforeSeq' | 'scanCap'> & { top: number },
): Promise<{ total: number } | { atMost: number }> {
  const candidates = await countOpenings(store, q);
  if (q.outcome === undefined || candidates === 0) return { total: candidates };
  if (candidates > OUTCOME_COUNT_CAP) return { atMost: candidates };
  const all = await auditActions(store, { ...q, limit: candidates, scanCap: Infinity });
  return { total: all.actions.length };
}

/** Counts already made, per store and filters: the log up to `top` never changes, so a later count adds only the records since. */
const openingCounts = new WeakMap<Store, Map<string, { top: number; n: number }>>();
const COUNTS_KEPT = 100;

/** How many records up to `top` open an action and match the filters (not the outcome). */
async function countOpenings(store: Store, q: Omit<ActionQuery, 'limit'> & { top: number }): Promise<number> {
  const filters = { tool: q.tool, env: q.env, service: q.service, principal: q.principal, since: q.since };
  const key = JSON.stringify(filters);
  let kept = openingCounts.get(store);
  if (!kept) openingCounts.set(store, (kept = new Map<string, { top: number; n: number }>()));
  const known = kept.get(key);
  const from = known && known.top <= q.top ? known : { top: 0, n: 0 };
  const n =
    from.top === q.top
      ? from.n
      : from.n +
        (await store.countAudit({ ...filters, opensAction: true, afterSeq: from.top, beforeSeq: q.top + 1 }));
  if (!known || known.top < q.top) {
    kept.delete(key);
    kept.set(key, { top: q.top, n });
    if (kept.size > COUNTS_KEPT) kept.delete(kept.keys().next().value!);
  }
  return n;
}

/** Records of the scan so far, by the approval or the call they belong to, newest first. */
interface Seen {
  byApproval: Map<string, Rec[]>;
  byCall: Map<string, Rec[]>;
  /** False when the search kept to one requester: the approvers' decisions were not read. */
  othersRead: boolean;
}

function remember(seen: Seen, rec: Rec): void {
  const add = (m: Map<string, Rec[]>, k: string) => m.set(k, [...(m.get(k) ?? []), rec]);
  if (typeof rec.approval?.id === 'string') add(seen.byApproval, rec.approval.id);
  if (rec.call) add(seen.byCall, rec.call);
}

async function joinAction(store: Store, row: AuditRecord, rec: Rec, seen?: Seen): Promise<AuditAction> {
  const line: AuditAction = {
    seq: row.seq,
    when: row.ts,
    tool: rec.tool ?? rec.event ?? '?',
    env: rec.env,
    target: targetOf(rec),
    requester: rec.principal,
    approvers: [],
    outcome: 'ok',
    detail: '',
    summary: rec.summary ?? argsSummary(rec.args),
  };
  const failure = `${rec.outcome?.error ?? 'error'}${text(rec.detail?.message) ? `: ${text(rec.detail?.message)}` : ''}`;
  switch (rec.event) {
    case 'tool.refused':
      return {
        ...line,
        outcome: 'refused',
        detail: text(rec.detail?.why) ?? rec.outcome?.error ?? 'refused',
      };
    case 'tool.plan':
      return { ...line, detail: 'dry run: planned, nothing changed' };
    case 'tool.approval_required':
      return joinApproval(store, line, String(rec.approval?.id), seen);
    case 'tool.execute': {
      const elicited = rec.approval?.channel === 'elicitation';
      const done = seen
        ? seen.byCall.get(rec.call ?? '')?.find((r) => r.event === 'tool.outcome')
        : await outcomeOf(store, { call: rec.call, afterSeq: row.seq });
      return {
        ...line,
        ...executed(done),
        ...(elicited ? { detail: `${executed(done).detail} (approved through the client's prompt)` } : {}),
      };
    }
    case 'tool.call':
      return rec.outcome?.ok === false
        ? { ...line, outcome: 'failed', detail: failure }
        : { ...line, detail: 'done' };
    default:
      return rec.outcome?.ok === false
        ? { ...line, outcome: 'failed', detail: failure }
        : { ...line, detail: rec.event ?? '' };
  }
}

/** A write that waited for approval: the request's state, and the execution that redeemed it. */
async function joinApproval(store: Store, line: AuditAction, id: string, seen?: Seen): Promise<AuditAction> {
  const trail = seen?.byApproval.get(id);
  const ran = trail?.find((r) => r.event === 'tool.execute');
  if (trail && ran) {
    // Executed: the approvals and the outcome are in the records already read, unless the search
    // kept to the requester's records, and the approvers are the request's.
    const req = seen?.othersRead ? undefined : await store.getApproval(id);
    const approvers = req ? countedApprovers(req) : approversIn(trail);
    return {
      ...line,
      approval_id: id,
      approvers,
      ...executed(trail.find((r) => r.event === 'tool.outcome')),
    };
  }
  const decided = trail?.find((r) => r.event === 'approval.approved' || r.event === 'approval.denied');
  const status = (decided?.approval as { status?: unknown } | undefined)?.status;
  if (trail && !ran && (status === 'approved' || status === 'denied')) {
    // Decided and not run: the decision records say by whom (newest first in the trail).
    const approvers = approversIn(trail);
    if (status === 'approved')
      return {
        ...line,
        approval_id: id,
        approvers,
        outcome: 'pending',
        detail: 'approved, not run yet (redeem with approval_id)',
      };
    const reason = (decided?.approval as { reason?: unknown } | undefined)?.reason;
    return {
      ...line,
      approval_id: id,
      approvers,
      outcome: 'refused',
      detail: `denied by ${decided?.principal ?? '?'}${typeof reason === 'string' && reason ? `: ${reason}` : ''}`,
    };
  }
  const req = await store.getApproval(id);
  const base = { ...line, approval_id: id };
  if (!req) return { ...base, outcome: 'pending', detail: `approval ${id} is not in the store` };
  const approvers = countedApprovers(req);
  const withReq = { ...base, approvers, summary: req.summary, requester: req.requester };
  const denial = req.decisions.find((d) => d.decision === 'deny');
  switch (req.status) {
    case 'pending':
      return {
        ...withReq,
        outcome: 'pending',
        detail: `awaiting approval (${approvers.length} of ${req.policy.approvals_needed})`,
      };
    case 'approved':
      return { ...withReq, outcome: 'pending', detail: 'approved, not run yet (redeem with approval_id)' };
    case 'denied':
      return {
        ...withReq,
        outcome: 'refused',
        detail: `denied by ${denial?.principal ?? '?'}${denial?.reason ? `: ${denial.reason}` : ''}`,
      };
    case 'expired':
      return { ...withReq, outcome: 'refused', detail: 'expired before it was approved and run' };
    case 'consumed': {
      const done = await outcomeOf(store, { approval_id: id, afterSeq: line.seq });
      return { ...withReq, ...executed(done) };
    }
  }
}

/** Who approved, oldest first, from a trail of records read newest first. */
function approversIn(trail: readonly Rec[]): string[] {
  return [
    ...new Set(trail.filter((r) => r.event === 'approval.approved').map((r) => r.principal ?? '?')),
  ].reverse();
}

function executed(done: Rec | undefined): Pick<AuditAction, 'outcome' | 'detail'> {
  if (!done) return { outcome: 'pending', detail: 'executing (no outcome recorded yet)' };
  if (done.outcome?.ok) return { outcome: 'ok', detail: 'executed' };
  const msg = text(done.detail?.message);
  return {
    outcome: 'failed',
    detail: `execution failed: ${done.outcome?.error ?? 'error'}${msg ? `: ${msg}` : ''}`,
  };
}

/** The outcome record of one execution, found by its call or its approval. */
async function outcomeOf(
  store: Store,
  by: { call?: string; approval_id?: string; afterSeq: number },
): Promise<Rec | undefined> {
  if (by.call === undefined && by.approval_id === undefined) return undefined;
  const rows = await store.queryAudit({ ...by, event: 'tool.outcome', limit: 1 });
  return rows[0] && parse(rows[0]);
}

function targetOf(rec: Rec): string | undefined {
  const t = rec.targets?.filter((x) => x && typeof x === 'object' && x.name) ?? [];
  if (t.length) {
    const first = `${t[0]!.kind ?? '?'}/${t[0]!.namespace ? `${t[0]!.namespace}/` : ''}${t[0]!.name}`;
    return t.length > 1 ? `${first} +${t.length - 1}` : first;
  }
  return rec.service ?? rec.resource;
}

/** The arguments of a read, in one short line (redacted when recorded). */
function argsSummary(args: unknown): string {
  if (!args || typeof args !== 'object') return '';
  const s = JSON.stringify(args);
  return s === '{}' ? '' : s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function parse(r: AuditRecord): Rec {
  try {
    return JSON.parse(r.record) as Rec;
  } catch {
    return {};
  }
}
