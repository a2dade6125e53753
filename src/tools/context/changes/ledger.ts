import { environmentConfig } from '../../../config/lookup.js';
import type { Deps } from '../../../contract/deps.js';
import type { Silence } from '../../../providers/alertmanager/types.js';
import type { DatadogDowntime } from '../../../providers/datadog/types.js';
import type { DeploymentInfo } from '../../../providers/kubernetes/types.js';
import type { Store } from '../../../store/store.js';
import type { ObjectDrift } from '../../deploys/drift/scan.js';
import { scanScope } from '../../deploys/drift-scope.js';
import { IncidentRecords, type IncidentRecord } from '../../incidents/incident-record.js';
import { allHolds, type Hold } from '../../deploys/holds.js';
import { gather, untrusted, type Gap } from '../gather.js';
import { downtimeEntries, silenceEntries } from './alerting.js';
import { CHANGE_KINDS, type ChangeKind, type LedgerEntry } from './change.js';
import { day2Actions, day2Outcomes, type Day2Action } from './day2-writes.js';
import { editEntries, holdEntries, incidentEntries } from './edits.js';
import { rolloutEntries, type NamespacedRevision } from './rollouts.js';

/**
 * The change ledger: what changed in one environment and who changed it, merged from every place
 * that knows — the Kubernetes rollout history (including rollouts made outside day2), day2's own
 * audited writes with their approvals, Alertmanager silences, Datadog downtimes, hand edits that
 * drift from the desired state, and incidents. list_changes, day2://changes/{env}, triage and the
 * incident timeline all read it, so none of them can tell a different story.
 */

export interface ChangeQuery {
  env: string;
  /** Catalog service ids; every service when absent. */
  services?: readonly string[];
  /** ISO times, both inclusive. */
  since: string;
  until: string;
  /** Kinds to list; every kind when absent. `day2` selects all of day2's writes, whatever they changed. */
  kinds?: readonly ChangeKind[];
}

/** What the ledger read, each part missing when its backend is not configured or did not answer. */
export interface ChangeSources {
  deployments?: DeploymentInfo[];
  revisions?: NamespacedRevision[];
  writes?: Day2Action[];
  silences?: Silence[];
  downtimes?: DatadogDowntime[];
  drift?: ObjectDrift[];
  incidents?: IncidentRecord[];
  holds?: Hold[];
}

/** The most audited writes one query reads; a window with more says so in its notes. */
export const MAX_WRITES = 5000;
/** A day2 silence or downtime and its audited write are one change when this close in time. */
const SAME_WRITE_MS = 2 * 60_000;

const WRITE_OF_KIND: Partial<Record<ChangeKind, string>> = {
  silence: 'silence_alert',
  downtime: 'schedule_downtime',
};

function needs(kinds: readonly ChangeKind[] | undefined) {
  const k = new Set<ChangeKind>(kinds ?? CHANGE_KINDS);
  // day2's writes are matched to the rollouts, silences and downtimes they made.
  const day2 = k.has('day2');
  return {
    kubernetes: k.has('rollout') || day2,
    alertmanager: k.has('silence') || day2,
    datadog: k.has('downtime') || day2,
    drift: k.has('edit'),
    incidents: k.has('incident'),
    holds: k.has('hold'),
  };
}

/**
 * Reads, in one parallel wave, every source the query needs. A backend that fails is a gap; an
 * environment without that backend is not.
 */
export async function readChangeSources(
  deps: Deps,
  q: ChangeQuery,
): Promise<{ sources: ChangeSources; gaps: Gap[]; notes: string[] }> {
  const env = q.env;
  const need = needs(q.kinds);
  const tasks: { backend: string; env?: string; run: () => Promise<ChangeSources> }[] = [];
  if (need.kubernetes && deps.backends.has(env, 'kubernetes')) tasks.push(...kubernetesTasks(deps, q));
  tasks.push({
    backend: 'audit',
    run: async () => {
      const one = q.services?.length === 1 ? q.services[0] : undefined;
      const all = await day2Actions(deps.store, {
        env,
        service: one,
        since: q.since,
        until: q.until,
        limit: MAX_WRITES,
        outcomes: false,
      });
      const wanted = q.services ? new Set(q.services) : undefined;
      return { writes: wanted ? all.filter((w) => w.service && wanted.has(w.service)) : all };
    },
  });
  if (need.alertmanager && deps.backends.has(env, 'alertmanager'))
    tasks.push({
      backend: 'alertmanager',
      env,
      run: async () => ({ silences: await deps.backends.alertmanager(env).listSilences() }),
    });
  if (need.datadog && deps.backends.has(env, 'datadog'))
    tasks.push({
      backend: 'datadog',
      env,
      run: async () => ({
        downtimes: await deps.backends.datadog(env).listDowntimes({ currentOnly: false }),
      }),
    });
  const driftGaps: Gap[] = [];
  if (
    need.drift &&
    environmentConfig(deps.config, env)?.desired_state &&
    deps.backends.has(env, 'kubernetes')
  )
    tasks.push({
      backend: 'desired state',
      env,
      run: async () => {
        const scope = await scanScope(deps, {
          env,
          service: q.services?.length === 1 ? q.services[0] : undefined,
        });
        driftGaps.push(...scope.gaps);
        return { drift: scope.objects };
      },
    });
  if (need.holds)
    tasks.push({ backend: 'holds', run: async () => ({ holds: await allHolds(deps, { env }) }) });
  if (need.incidents)
    tasks.push({
      backend: 'incidents',
      run: async () => ({ incidents: await new IncidentRecords(deps.store).list(1000) }),
    });

  const { results, gaps } = await gather(tasks, deps.config.backends.timeout);
  const sources: ChangeSources = {};
  for (const { value } of results)
    for (const [k, v] of Object.entries(value) as [keyof ChangeSources, unknown[]][])
      (sources[k] as unknown[] | undefined) = [...((sources[k] as unknown[] | undefined) ?? []), ...v];
  const notes: string[] = [];
  if ((sources.writes?.length ?? 0) >= MAX_WRITES)
    notes.push(
      `day2 wrote more than ${MAX_WRITES} times in this window: only the newest ${MAX_WRITES} writes are counted; narrow since/until`,
    );
  return { sources, gaps: [...gaps, ...driftGaps], notes };
}

/** The Deployments and ReplicaSets of the query's namespaces (of its services' workloads, when it names services). */
function kubernetesTasks(
  deps: Deps,
  q: ChangeQuery,
): { backend: string; env: string; run: () => Promise<ChangeSources> }[] {
  const env = q.env;
  const k8s = deps.backends.kubernetes(env);
  const workloads = q.services
    ?.map((s) => deps.catalog.workloadFor(s, env))
    .filter((w): w is NonNullable<typeof w> => w !== undefined);
  const wanted = workloads && new Set(workloads.map((w) => `${w.namespace}/${w.name}`));
  const read = async (ns: string): Promise<ChangeSources> => {
    const [deployments, revisions] = await Promise.all([k8s.listDeployments(ns), k8s.listReplicaSets(ns)]);
    return {
      deployments: wanted ? deployments.filter((d) => wanted.has(`${ns}/${d.name}`)) : deployments,
      revisions: revisions.map((r) => ({ ...r, namespace: ns })),
    };
  };
  const namespaces = workloads
    ? [...new Set(workloads.map((w) => w.namespace))]
    : k8s.namespaces.length
      ? [...k8s.namespaces]
      : undefined;
  if (namespaces) return namespaces.map((ns) => ({ backend: 'kubernetes', env, run: () => read(ns) }));
  return [
    {
      backend: 'kubernetes',
      env,
      run: async () => {
        const all = await k8s.listDeployments();
        const revisions = await Promise.all(
          [...new Set(all.map((d) => d.namespace))].map(async (ns) =>
            (await k8s.listReplicaSets(ns)).map((r) => ({ ...r, namespace: ns })),
          ),
        );
        return { deployments: all, revisions: revisions.flat() };
      },
    },
  ];
}

/**
 * The query's changes from what was read, newest first: day2's writes merged into the rollouts,
 * silences and downtimes they made (one change, with its approval), filtered to the window, the
 * services and the kinds. Pure: no I/O.
 */
export function changesFrom(deps: Deps, q: ChangeQuery, s: ChangeSources): LedgerEntry[] {
  const env = q.env;
  const rollouts =
    s.deployments && s.revisions
      ? rolloutEntries(deps, env, s.deployments, s.revisions, Date.parse(q.since))
      : [];
  const alerting = [...silenceEntries(env, s.silences ?? []), ...downtimeEntries(env, s.downtimes ?? [])];
  const writes = s.writes ?? [];
  const joined = new Set<Day2Action>();
  const byDigest = new Map(writes.filter((w) => w.action_digest).map((w) => [w.action_digest!, w]));
  for (const r of rollouts) {
    const w = r.digest ? byDigest.get(r.digest) : undefined;
    if (w) {
      mergeWrite(r, w);
      joined.add(w);
    }
  }
  for (const e of alerting) {
    if (!e.day2) continue;
    const w = writes.find(
      (x) =>
        !joined.has(x) &&
        x.tool === WRITE_OF_KIND[e.kind] &&
        x.principal === e.by &&
        Math.abs(Date.parse(x.at) - e.sortAt) <= SAME_WRITE_MS,
    );
    if (w) {
      mergeWrite(e, w);
      joined.add(w);
    }
  }
  const all = [
    ...rollouts,
    ...alerting,
    ...writes.filter((w) => !joined.has(w)).map((w) => writeEntry(env, w)),
    ...editEntries(deps, env, s.drift ?? []),
    ...incidentEntries(env, s.incidents ?? []),
    ...holdEntries(env, s.holds ?? []),
  ];
  const since = Date.parse(q.since);
  const until = Date.parse(q.until);
  const services = q.services ? new Set(q.services) : undefined;
  const kinds = q.kinds ? new Set(q.kinds) : undefined;
  return all
    .filter(
      (e) =>
        // A hand edit no manager dates is true now, whatever the window.
        ((e.sortAt >= since && e.sortAt <= until) || (e.at === null && e.kind === 'edit')) &&
        (!services || (e.service !== undefined && services.has(e.service))) &&
        (!kinds || kinds.has(e.kind) || (kinds.has('day2') && e.tool !== undefined)),
    )
    .sort(newestFirst);
}

/** Newest first; equal times by id, so that pages are stable. */
export function newestFirst(a: LedgerEntry, b: LedgerEntry): number {
  return b.sortAt - a.sortAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** A change day2 made: who asked, under which approval, with what outcome (audit). */
function mergeWrite(e: LedgerEntry, w: Day2Action): void {
  e.day2 = true;
  e.by = w.principal ?? e.by;
  e.by_how = 'audit';
  e.tool = w.tool;
  e.seq = w.seq;
  if (w.approval_id) e.approval_id = w.approval_id;
  if (w.action_digest) e.digest = w.action_digest;
  // day2's own annotation says who and why: not a change-cause to quote back.
  delete e.change_cause;
  if (e.at === null) {
    e.at = w.at;
    e.sortAt = Date.parse(w.at);
  }
}

function writeEntry(env: string, w: Day2Action): LedgerEntry {
  const targets = w.targets.map((t) => `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`);
  return {
    id: `day2:${w.seq}`,
    at: w.at,
    sortAt: Date.parse(w.at),
    kind: 'day2',
    env,
    ...(w.service ? { service: w.service } : {}),
    what: `${w.tool}${targets.length ? ` on ${untrusted(targets.join(', '), 160)}` : ''}`,
    by: w.principal ?? 'unknown',
    by_how: 'audit',
    day2: true,
    tool: w.tool,
    ...(w.approval_id ? { approval_id: w.approval_id } : {}),
    ...(w.action_digest ? { digest: w.action_digest } : {}),
    seq: w.seq,
  };
}

/**
 * Completes day2's changes with their outcome (audit) and approval record: who approved, and the
 * plan's one-line summary for writes that are not a rollout, silence or downtime. Reads one
 * approval per change and the outcomes since the oldest, so callers pass only what they show.
 */
export async function describeDay2(
  store: Store,
  env: string,
  entries: readonly LedgerEntry[],
): Promise<void> {
  const writes = entries.filter((e) => e.tool !== undefined);
  const ids = [...new Set(writes.map((e) => e.approval_id).filter((id): id is string => Boolean(id)))];
  const [approvals, outcomes] = await Promise.all([
    Promise.all(ids.map(async (id) => [id, await store.getApproval(id)] as const)).then((x) => new Map(x)),
    day2Outcomes(
      store,
      env,
      writes.flatMap((e) => (e.digest && e.seq !== undefined ? [{ seq: e.seq, digest: e.digest }] : [])),
    ),
  ]);
  for (const e of writes) {
    const o = e.digest ? outcomes.get(e.digest) : undefined;
    e.outcome = o?.ok === undefined ? 'no outcome recorded' : o.ok ? 'ok' : 'failed';
    if (o?.error) e.error = o.error;
    const a = e.approval_id ? approvals.get(e.approval_id) : undefined;
    if (!a) continue;
    e.approvers = a.decisions.filter((d) => d.decision === 'approve').map((d) => d.principal);
    if (e.kind === 'day2') e.what = untrusted(a.summary, 200);
  }
}
