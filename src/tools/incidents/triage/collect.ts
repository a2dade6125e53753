import type { Deps } from '../../../contract/deps.js';
import type { CatalogService } from '../../../catalog/model.js';
import { dependencyImpact } from '../../../catalog/graph.js';
import { collectAlerts, type DayAlert } from '../../context/alerts.js';
import { gather, untrusted, type Gap } from '../../context/gather.js';
import type {
  DeploymentInfo,
  EventInfo,
  KubernetesProvider,
  PodInfo,
} from '../../../providers/kubernetes/types.js';
import type { Redactor } from '../../../core/redact.js';
import type { Silence } from '../../../providers/alertmanager/types.js';
import type { DatadogDowntime } from '../../../providers/datadog/types.js';
import type { LedgerEntry } from '../../context/changes/change.js';
import { changesFrom, describeDay2, readChangeSources } from '../../context/changes/ledger.js';
import type { IncidentRecord } from '../incident-record.js';

/** How an alerting service relates to the one being triaged. */
export type Relation = 'self' | 'upstream' | 'downstream';

export interface RelatedService {
  id: string;
  relation: Exclude<Relation, 'self'>;
  distance: number;
  owner?: string;
}

export interface TriageAlert extends DayAlert {
  relation: Relation;
  /** The catalog service the alert belongs to (aliases such as a Datadog service name resolved). */
  catalog_service: string;
  owner?: string;
}

/** The end of what a container printed in its last run before it crashed or was killed. */
export interface CrashLog {
  pod: string;
  container: string;
  /** Why that run ended (CrashLoopBackOff, OOMKilled, Error). */
  reason: string;
  /** Last lines, oldest first: backend text, capped, with credential-looking values masked. */
  lines: string[];
}

/** Containers whose last run ended badly, the log of each read at most: distinct (container, image). */
const CRASH_LOGS = 2;
const CRASH_LOG_LINES = 8;

/** Everything triage read, each part possibly missing (then a gap says why). */
export interface TriageData {
  service: CatalogService;
  /** Every name the service goes by in env (id, Datadog service, workload): what silences and downtimes name. */
  names: string[];
  env: string;
  since: string;
  now: string;
  related: RelatedService[];
  alerts: TriageAlert[];
  deployment?: DeploymentInfo;
  /**
   * What changed in the window, from the change ledger (list_changes reads the same): rollouts of
   * the service, and day2's writes to it and its neighbours. Newest first.
   */
  changes?: LedgerEntry[];
  pods?: PodInfo[];
  events?: EventInfo[];
  /** Silences and current downtimes, as the ledger read them: triage keeps those that cover the service. */
  silences?: Silence[];
  downtimes?: DatadogDowntime[];
  openIncidents: IncidentRecord[];
  /** What crashed containers printed last; read only when pods crash (one more round trip). */
  crashLogs?: CrashLog[];
  gaps: Gap[];
}

type Part =
  | { kind: 'deployment'; value: DeploymentInfo }
  | { kind: 'pods'; value: PodInfo[] }
  | { kind: 'events'; value: EventInfo[] };

/**
 * Reads, in one parallel wave, everything triage needs: alerts of the service and its neighbours,
 * the deployment, pods and events, and the change ledger's sources (ReplicaSet history, day2's
 * audited writes, silences, downtimes, incidents). No read waits for another, so the wall time is
 * that of the slowest backend; each failure becomes a gap.
 */
export async function collectTriage(
  deps: Deps,
  service: CatalogService,
  env: string,
  since: string,
): Promise<TriageData> {
  const timeout = deps.config.backends.timeout;
  const impact = dependencyImpact(deps.catalog, service.id, { direction: 'both', depth: 2 });
  const related: RelatedService[] = impact.nodes
    .filter((n) => n.id !== service.id)
    .map((n) => ({ id: n.id, relation: n.direction, distance: n.distance, owner: n.owner }));
  const workload = deps.catalog.workloadFor(service.id, env);
  const k8s = workload && deps.backends.has(env, 'kubernetes') ? deps.backends.kubernetes(env) : undefined;

  const tasks: { backend: string; env?: string; run: () => Promise<Part> }[] = [];
  if (k8s && workload) {
    const { namespace, name } = workload;
    tasks.push(
      {
        backend: 'kubernetes',
        env,
        run: async () => ({ kind: 'deployment', value: await k8s.getDeployment(namespace, name) }),
      },
      {
        backend: 'kubernetes',
        env,
        run: async () => ({ kind: 'pods', value: await k8s.listPods(namespace) }),
      },
      {
        backend: 'kubernetes',
        env,
        run: async () => ({ kind: 'events', value: await k8s.listEvents(namespace) }),
      },
    );
  }
  const query = {
    env,
    services: [service.id, ...related.map((r) => r.id)],
    since,
    until: deps.clock.now().toISOString(),
    kinds: ['rollout', 'day2', 'silence', 'downtime', 'incident'] as const,
  };

  const [alertsRead, parts, ledger] = await Promise.all([
    collectAlerts(deps, { env }),
    gather(tasks, timeout),
    readChangeSources(deps, query),
  ]);
  const changes = changesFrom(deps, query, ledger.sources).filter(
    (c) => c.kind === 'rollout' || c.tool !== undefined,
  );
  await describeDay2(deps.store, env, changes.filter((c) => c.tool !== undefined).slice(0, 50));

  const data: TriageData = {
    service,
    names: deps.catalog.resolver.namesOf(service.id, env),
    env,
    since,
    now: deps.clock.now().toISOString(),
    related,
    alerts: [],
    changes,
    ...(ledger.sources.silences ? { silences: ledger.sources.silences } : {}),
    ...(ledger.sources.downtimes
      ? { downtimes: ledger.sources.downtimes.filter((d) => d.status === 'active') }
      : {}),
    openIncidents: (ledger.sources.incidents ?? []).filter(
      (i) => i.service === service.id && i.env === env && i.status !== 'resolved',
    ),
    gaps: dedupeGaps([...alertsRead.gaps, ...parts.gaps, ...ledger.gaps]),
  };
  for (const { value: p } of parts.results) (data as unknown as Record<string, unknown>)[p.kind] = p.value;
  if (data.deployment) {
    const d = data.deployment;
    data.pods = data.pods?.filter((p) => selects(d.selector, p.labels) ?? p.name.startsWith(`${d.name}-`));
    data.events = data.events?.filter(
      (e) => e.object.name === d.name || e.object.name.startsWith(`${d.name}-`),
    );
  } else if (workload) {
    data.pods = data.pods?.filter((p) => p.name.startsWith(`${workload.name}-`));
    data.events = data.events?.filter(
      (e) => e.object.name === workload.name || e.object.name.startsWith(`${workload.name}-`),
    );
  }
  data.alerts = relateAlerts(service, related, alertsRead.alerts);
  if (k8s && data.pods?.length) {
    const logs = await readCrashLogs(k8s, data.pods, env, timeout, deps.redactor);
    if (logs.results.length) data.crashLogs = logs.results;
    data.gaps = dedupeGaps([...data.gaps, ...logs.gaps]);
  }
  return data;
}

/**
 * The previous run's log of up to CRASH_LOGS containers that crash-loop or were killed, chosen
 * so that two replicas of one image are read once. What a container printed as it died is what
 * an SRE reads first; the kubelet keeps it until the next restart.
 */
async function readCrashLogs(
  k8s: KubernetesProvider,
  pods: PodInfo[],
  env: string,
  timeout: number,
  redactor: Redactor,
): Promise<{ results: CrashLog[]; gaps: Gap[] }> {
  const picked = new Map<string, { pod: PodInfo; container: string; reason: string }>();
  const candidates = pods.flatMap((pod) =>
    pod.containers
      .filter(
        (c) => c.waitingReason === 'CrashLoopBackOff' || (c.lastTerminationReason && c.restartCount > 0),
      )
      .map((c) => ({
        pod,
        container: c.name,
        image: c.image,
        reason: c.waitingReason === 'CrashLoopBackOff' ? c.waitingReason : c.lastTerminationReason!,
      })),
  );
  // Crash loops first: the running-but-once-killed containers matter less.
  candidates.sort(
    (a, b) => Number(b.reason === 'CrashLoopBackOff') - Number(a.reason === 'CrashLoopBackOff'),
  );
  for (const c of candidates) {
    const key = `${c.container}|${c.image}`;
    if (!picked.has(key) && picked.size < CRASH_LOGS) picked.set(key, c);
  }
  const read = await gather(
    [...picked.values()].map((c) => ({
      backend: 'kubernetes',
      env,
      run: async (): Promise<CrashLog> => {
        const text = await k8s.getPodLogs(c.pod.namespace, c.pod.name, {
          container: c.container,
          previous: true,
          tailLines: CRASH_LOG_LINES * 4,
          limitBytes: 64 * 1024,
        });
        const lines = text
          .split('\n')
          .filter((l) => l.trim())
          .slice(-CRASH_LOG_LINES)
          .map((l) => untrusted(redactor.redactLogLine(l), 200));
        return { pod: c.pod.name, container: c.container, reason: c.reason, lines };
      },
    })),
    timeout,
  );
  return { results: read.results.map((r) => r.value), gaps: read.gaps };
}

/**
 * Keeps the alerts of the service and of its neighbours, each marked with its relation and owner.
 * Alerts arrive attributed to catalog nodes by the resolver (a Datadog service name is its service).
 */
function relateAlerts(service: CatalogService, related: RelatedService[], alerts: DayAlert[]): TriageAlert[] {
  const byId = new Map<string, { relation: Relation; owner?: string }>([
    [service.id, { relation: 'self', owner: service.owner }],
  ]);
  for (const r of related) if (!byId.has(r.id)) byId.set(r.id, { relation: r.relation, owner: r.owner });
  const out: TriageAlert[] = [];
  for (const a of alerts) {
    const rel = a.service ? byId.get(a.service) : undefined;
    if (rel && a.service)
      out.push({ ...a, relation: rel.relation, catalog_service: a.service, owner: rel.owner });
  }
  const order: Record<Relation, number> = { self: 0, upstream: 1, downstream: 2 };
  return out.sort((a, b) => order[a.relation] - order[b.relation]);
}

/** Whether a `k=v,k2=v2` selector selects the labels; undefined when the selector has other forms. */
function selects(selector: string, labels: Record<string, string>): boolean | undefined {
  if (!selector) return undefined;
  const terms = selector.split(',').map((t) => t.trim());
  if (!terms.every((t) => /^[^=!\s()]+==?[^=!\s()]*$/.test(t))) return undefined;
  return terms.every((t) => {
    const [k, v] = t.split(/==?/) as [string, string];
    return labels[k] === v;
  });
}

function dedupeGaps(gaps: Gap[]): Gap[] {
  const seen = new Set<string>();
  return gaps.filter((g) => {
    const key = `${g.backend}|${g.env ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
