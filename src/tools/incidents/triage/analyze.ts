import { untrusted } from '../../context/gather.js';
import { formatMemory, memoryBytes } from '../../../providers/kubernetes/quantity.js';
import { compileMatcher } from '../../../providers/alertmanager/matchers.js';
import type { LedgerEntry } from '../../context/changes/change.js';
import { tagOf } from '../../context/changes/rollouts.js';
import type { Effect } from '../../../contract/define-tool.js';
import type { Gap } from '../../context/gather.js';
import { hasProblems, podHealth, type PodHealth } from './pod-health.js';
import type { CrashLog, TriageAlert, TriageData } from './collect.js';

export interface Finding {
  kind:
    | 'alert'
    | 'neighbour_alert'
    | 'rollout'
    | 'pod_health'
    | 'day2_change'
    | 'silence'
    | 'downtime'
    | 'incident';
  severity: 'critical' | 'warning' | 'info';
  title: string;
  evidence: string[];
  source: string;
}

export interface Suspect {
  rank: number;
  cause: string;
  reason: string;
  confidence: 'high' | 'medium' | 'low';
  evidence: string[];
}

export interface NextAction {
  tool: string;
  arguments: Record<string, unknown>;
  effect: Effect;
  needs_approval: boolean;
  why: string;
}

export interface Rollout {
  revision: number;
  at: string | null;
  image: string;
  /** The image of the revision that ran just before this one. */
  previous_image?: string;
  previous_revision?: number;
  change_cause?: string;
  current: boolean;
  /** Who rolled it out, as the change ledger knows it. */
  by?: string;
  /** Made through day2 (then a day2_change finding tells its approval). */
  day2?: boolean;
}

export interface TriageReport {
  service: string;
  env: string;
  window: { since: string; until: string };
  owner?: string;
  deployment?: {
    namespace: string;
    name: string;
    revision?: number;
    image: string;
    ready: number;
    desired: number;
  };
  findings: Finding[];
  suspects: Suspect[];
  next_actions: NextAction[];
  alerts: {
    id: string;
    service: string;
    relation: string;
    owner?: string;
    name: string;
    severity: string;
    since: string | null;
    silenced: boolean;
    summary: string;
  }[];
  rollouts: Rollout[];
  crash_logs: CrashLog[];
  runbooks: string[];
  gaps: Gap[];
}

/** The effect of every tool triage may propose, so that each next action says what it would change. */
export type EffectOf = (tool: string) => Effect;

const ALERT_WINDOW_MIN = 60;

/** Turns what triage read into findings, ranked suspects and next actions (pure: no I/O). */
export function analyzeTriage(data: TriageData, effectOf: EffectOf): TriageReport {
  const svc = data.service.id;
  const selfAlerts = data.alerts.filter((a) => a.relation === 'self');
  const firstAlert = earliest(selfAlerts);
  const rollouts = rolloutsIn(data);
  const health = data.pods ? podHealth(data.pods, data.events ?? []) : undefined;
  const findings: Finding[] = [];

  for (const a of selfAlerts.slice(0, 8))
    findings.push({
      kind: 'alert',
      severity: a.severity,
      title: `${a.name} (${a.severity}) firing on ${svc} since ${a.since ?? 'unknown'}`,
      evidence: [a.id, ...(a.silenced_by.length ? [`silenced by ${a.silenced_by.join(', ')}`] : [])],
      source: a.source,
    });
  for (const a of data.alerts.filter((x) => x.relation !== 'self').slice(0, 6))
    findings.push({
      kind: 'neighbour_alert',
      severity: a.severity === 'critical' ? 'warning' : 'info',
      title: `${a.relation} ${a.catalog_service} (owner ${a.owner ?? 'unknown'}): ${a.name} (${a.severity}) since ${a.since ?? 'unknown'}`,
      evidence: [a.id],
      source: a.source,
    });
  for (const r of rollouts.filter((x) => !x.day2))
    findings.push({
      kind: 'rollout',
      severity: 'info',
      title: `revision ${r.revision} rolled out at ${r.at ?? 'unknown'}: ${r.previous_image ? `${tagOf(r.previous_image)} → ` : ''}${tagOf(r.image)}${r.current ? ' (current)' : ''}`,
      evidence: [
        `image ${r.image}`,
        ...(r.previous_image
          ? [`previous revision ${r.previous_revision ?? '?'} ran ${r.previous_image}`]
          : []),
        ...(r.change_cause ? [`change-cause: ${r.change_cause}`] : []),
        ...(r.by ? [`rolled out by ${r.by} (outside day2)`] : []),
      ],
      source: 'kubernetes',
    });
  if (health && (hasProblems(health) || health.warnings.length > 0))
    findings.push({
      kind: 'pod_health',
      severity:
        health.crashLooping.length || health.oomKilled.length || health.imagePull.length
          ? 'critical'
          : 'warning',
      title: `${health.ready}/${health.total} pods ready, ${health.restarts} restarts${health.crashLooping.length ? `, ${health.crashLooping.length} crash-looping` : ''}${health.oomKilled.length ? `, ${health.oomKilled.length} OOMKilled` : ''}`,
      evidence: [
        ...health.crashLooping,
        ...health.oomKilled,
        ...health.imagePull,
        ...health.notReady,
        ...health.warnings,
      ].slice(0, 6),
      source: 'kubernetes',
    });
  for (const a of day2Writes(data))
    findings.push({
      kind: 'day2_change',
      severity: a.outcome === 'failed' ? 'warning' : 'info',
      title: `day2 ${a.tool} on ${a.service ?? '?'} by ${a.by} at ${a.at ?? 'unknown'}${a.approval_id ? ` (approval ${a.approval_id}${a.approvers?.length ? `, approved by ${a.approvers.join(', ')}` : ''})` : ''}: ${a.outcome === 'ok' ? 'succeeded' : a.outcome === 'failed' ? `failed (${a.error ?? 'error'})` : (a.outcome ?? 'no outcome recorded')}${a.kind === 'rollout' ? `; ${a.what}` : ''}`,
      evidence: [a.kind === 'day2' ? `audit seq ${a.id.slice('day2:'.length)}` : a.id, a.what],
      source: 'audit',
    });
  const silences = relevantSilences(data);
  for (const s of silences)
    findings.push({
      kind: 'silence',
      severity: 'info',
      title: `silence ${s.id} until ${s.endsAt} by ${untrusted(s.createdBy, 60)}`,
      evidence: [
        s.matchers.map((m) => `${m.name}${m.isRegex ? '=~' : '='}${untrusted(m.value, 60)}`).join(', '),
      ],
      source: 'alertmanager',
    });
  for (const d of relevantDowntimes(data))
    findings.push({
      kind: 'downtime',
      severity: 'info',
      title: `downtime ${d.id} on ${untrusted(d.scope, 80)} until ${d.end ?? 'cancelled'}`,
      evidence: [d.monitorId ? `monitor ${d.monitorId}` : `monitor tags ${(d.monitorTags ?? []).join(',')}`],
      source: 'datadog',
    });
  for (const i of data.openIncidents.slice(0, 3))
    findings.push({
      kind: 'incident',
      severity: 'info',
      title: `incident ${i.id} is ${i.status} (${i.severity}): ${untrusted(i.title, 100)}`,
      evidence: [`opened ${i.opened_at} by ${i.opened_by}`],
      source: 'day2',
    });

  const suspects = rankSuspects(data, rollouts, health, firstAlert);
  const nextActions = proposeActions(data, rollouts, suspects, health, firstAlert, effectOf);
  const d = data.deployment;
  return {
    service: svc,
    env: data.env,
    window: { since: data.since, until: data.now },
    owner: data.service.owner,
    deployment: d
      ? {
          namespace: d.namespace,
          name: d.name,
          revision: d.revision,
          image: d.images[0]?.image ?? '',
          ready: d.readyReplicas,
          desired: d.replicas,
        }
      : undefined,
    findings,
    suspects,
    next_actions: nextActions,
    alerts: data.alerts.map((a) => ({
      id: a.id,
      service: a.catalog_service,
      relation: a.relation,
      owner: a.owner,
      name: a.name,
      severity: a.severity,
      since: a.since,
      silenced: a.silenced_by.length > 0,
      summary: a.summary,
    })),
    rollouts,
    crash_logs: data.crashLogs ?? [],
    runbooks: [
      ...new Set([
        ...data.service.runbooks,
        ...selfAlerts.map((a) => a.runbook).filter((r): r is string => Boolean(r)),
      ]),
    ].slice(0, 5),
    gaps: data.gaps,
  };
}

/** The last thing a crashed container printed, as one evidence line (none when no log was read). */
function lastLogLine(data: TriageData, reason?: string): string[] {
  const log = (data.crashLogs ?? []).find((l) => (!reason || l.reason === reason) && l.lines.length);
  return log ? [`last log line of ${log.pod}/${log.container}: ${log.lines.at(-1)}`] : [];
}

/** Rollouts of the deployment inside the window, newest first, each with the image it replaced (the change ledger's). */
function rolloutsIn(data: TriageData): Rollout[] {
  return (data.changes ?? [])
    .filter((c) => c.kind === 'rollout' && c.service === data.service.id && c.revision !== undefined)
    .slice(0, 5)
    .map((c) => ({
      revision: c.revision!,
      at: c.at,
      image: c.image ?? '',
      ...(c.previous_image ? { previous_image: c.previous_image } : {}),
      ...(c.previous_revision !== undefined ? { previous_revision: c.previous_revision } : {}),
      ...(c.change_cause ? { change_cause: c.change_cause } : {}),
      current: c.current === true,
      by: c.by,
      day2: c.day2,
    }));
}

/** day2's writes to the service and its neighbours in the window (rollouts it made included). */
function day2Writes(data: TriageData): LedgerEntry[] {
  return (data.changes ?? []).filter((c) => c.tool !== undefined);
}

function rankSuspects(
  data: TriageData,
  rollouts: Rollout[],
  health: PodHealth | undefined,
  first: TriageAlert | undefined,
): Suspect[] {
  const scored: (Omit<Suspect, 'rank' | 'confidence'> & { score: number })[] = [];
  const firstAt = first?.since ? Date.parse(first.since) : undefined;
  const svc = data.service.id;
  const podTrouble = health && hasProblems(health);

  for (const r of rollouts) {
    if (!r.at) continue;
    const at = Date.parse(r.at);
    const diff = r.previous_image ? `${tagOf(r.previous_image)} → ${tagOf(r.image)}` : tagOf(r.image);
    const evidence = [
      `revision ${r.revision}: ${r.image}`,
      ...(r.previous_image ? [`revision ${r.previous_revision ?? '?'}: ${r.previous_image}`] : []),
    ];
    let score: number;
    let reason: string;
    if (firstAt !== undefined && first) {
      const gap = minutes(firstAt - at);
      if (gap >= 0 && gap <= ALERT_WINDOW_MIN) {
        score = 95 - gap / 2 - (r.current ? 0 : 20);
        reason = `deploy of revision ${r.revision} (${diff}), ${gap} min before the first alert (${first.name})`;
        evidence.push(`first alert ${first.id} since ${first.since}`);
      } else if (gap < 0) {
        score = 30;
        reason = `deploy of revision ${r.revision} (${diff}) came ${-gap} min after the first alert (${first.name}); it may have made things worse but did not start them`;
      } else {
        score = 25;
        reason = `deploy of revision ${r.revision} (${diff}), ${gap} min before the first alert: a long gap`;
      }
    } else {
      score = podTrouble && r.current ? 70 : 20;
      reason =
        podTrouble && r.current
          ? `deploy of revision ${r.revision} (${diff}), and its pods are unhealthy`
          : `deploy of revision ${r.revision} (${diff}) in the window; no alert fires on ${svc}`;
    }
    if (podTrouble && r.current && health) {
      score += 5;
      // Right after the revision: how its pods fail, and the last thing one of them printed.
      evidence.splice(
        1,
        0,
        ...[...health.crashLooping, ...health.oomKilled, ...health.imagePull].slice(0, 1),
        ...lastLogLine(data),
      );
    }
    scored.push({ cause: `rollout:${r.revision}`, reason, evidence, score });
  }

  for (const a of day2Writes(data)) {
    // A rollout day2 made is already a rollout suspect.
    if (a.service !== svc || a.outcome === 'failed' || a.kind === 'rollout' || !a.at) continue;
    const at = Date.parse(a.at);
    if (firstAt !== undefined && first) {
      const gap = minutes(firstAt - at);
      if (gap < 0 || gap > ALERT_WINDOW_MIN) continue;
      scored.push({
        cause: `day2:${a.tool}`,
        reason: `day2 ${a.tool} by ${a.by}, ${gap} min before the first alert (${first.name})`,
        evidence: [a.what],
        score: 85 - gap / 2,
      });
    }
  }

  if (health && podTrouble && !rollouts.some((r) => r.current)) {
    if (health.oomKilled.length)
      scored.push({
        cause: 'pods:oom',
        reason: `containers are OOMKilled (${health.oomKilled.length}): memory limit too low or a leak`,
        evidence: [...health.oomKilled.slice(0, 2), ...lastLogLine(data, 'OOMKilled')],
        score: 65,
      });
    if (health.crashLooping.length)
      scored.push({
        cause: 'pods:crashloop',
        reason: `containers crash-loop (${health.crashLooping.length}) without a recent rollout`,
        evidence: [...health.crashLooping.slice(0, 2), ...lastLogLine(data, 'CrashLoopBackOff')],
        score: 60,
      });
    if (health.imagePull.length)
      scored.push({
        cause: 'pods:image_pull',
        reason: `images cannot be pulled (${health.imagePull.length})`,
        evidence: health.imagePull.slice(0, 3),
        score: 60,
      });
  }

  for (const a of data.alerts.filter((x) => x.relation === 'upstream')) {
    const at = a.since ? Date.parse(a.since) : undefined;
    if (firstAt !== undefined && at !== undefined && at > firstAt) continue;
    scored.push({
      cause: `upstream:${a.catalog_service}`,
      reason: `upstream ${a.catalog_service} alerts (${a.name})${firstAt !== undefined && at !== undefined ? `, ${minutes(firstAt - at)} min before ${svc}'s first alert` : ''}`,
      evidence: [a.id],
      score: 50,
    });
  }

  const best = new Map<string, (typeof scored)[number]>();
  for (const s of scored) if ((best.get(s.cause)?.score ?? -1) < s.score) best.set(s.cause, s);
  return [...best.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, 5)
    .map((s, i) => ({
      rank: i + 1,
      cause: s.cause,
      reason: s.reason,
      confidence: s.score >= 75 ? ('high' as const) : s.score >= 45 ? ('medium' as const) : ('low' as const),
      evidence: s.evidence.slice(0, 4),
    }));
}

/**
 * The memory limit to propose for a container that was OOMKilled: half as much again (at least
 * 128Mi more), rounded up to 64Mi. Undefined when no such container has a limit to raise.
 */
function oomRaise(data: TriageData): { container: string; from: string; to: string } | undefined {
  const killed = new Set(
    (data.pods ?? []).flatMap((p) =>
      p.containers.filter((c) => c.lastTerminationReason === 'OOMKilled').map((c) => c.name),
    ),
  );
  const r = data.deployment?.resources.find((x) => killed.has(x.container) && x.limits.memory);
  if (!r) return undefined;
  const from = memoryBytes(r.limits.memory);
  const step = 64 * 1024 ** 2;
  const to = Math.ceil(Math.max(from * 1.5, from + 2 * step) / step) * step;
  return { container: r.container, from: r.limits.memory!, to: formatMemory(to) };
}

function proposeActions(
  data: TriageData,
  rollouts: Rollout[],
  suspects: Suspect[],
  health: PodHealth | undefined,
  first: TriageAlert | undefined,
  effectOf: EffectOf,
): NextAction[] {
  const svc = data.service.id;
  const env = data.env;
  const actions: NextAction[] = [];
  const add = (tool: string, args: Record<string, unknown>, why: string) => {
    const effect = effectOf(tool);
    // Default policy: every write needs a human approval; reads and records do not.
    actions.push({ tool, arguments: args, effect, needs_approval: effect === 'write', why });
  };
  const top = suspects[0];
  const raise = top?.cause === 'pods:oom' ? oomRaise(data) : undefined;
  const topRollout = top?.cause.startsWith('rollout:')
    ? rollouts.find((r) => `rollout:${r.revision}` === top.cause)
    : undefined;
  if (topRollout?.current && topRollout.previous_revision !== undefined && top && top.confidence !== 'low') {
    add(
      'rollback_deployment',
      { service: svc, env, revision: topRollout.previous_revision, reason: `triage: ${top.reason}` },
      `roll back to revision ${topRollout.previous_revision} (${topRollout.previous_image ? tagOf(topRollout.previous_image) : 'previous image'}), the last one before the suspected deploy`,
    );
  } else if (top?.cause === 'pods:oom' && raise) {
    add(
      'set_resources',
      {
        service: svc,
        env,
        container: raise.container,
        limits: { memory: raise.to },
        reason: `triage: ${top.reason}`,
      },
      `${raise.container} is OOMKilled at its ${raise.from} memory limit: raise it (deploys toolset); a restart alone brings the same limit back`,
    );
  } else if (top?.cause === 'pods:crashloop' || top?.cause === 'pods:oom') {
    add(
      'restart_deployment',
      { service: svc, env, reason: `triage: ${top.reason}` },
      'a rollout restart replaces wedged pods; it does not fix a bad image or a low memory limit',
    );
  }
  const firing = data.alerts.filter((a) => a.relation === 'self' && a.silenced_by.length === 0);
  if (data.openIncidents[0])
    add(
      'update_incident',
      { incident_id: data.openIncidents[0].id, note: `triage: ${top ? top.reason : 'no suspect found yet'}` },
      'record the triage result on the open incident',
    );
  else if (first)
    add(
      'open_incident',
      {
        service: svc,
        env,
        title: `${svc}: ${first.name}`,
        severity: first.severity === 'critical' ? 'sev2' : 'sev3',
      },
      'open an incident record so that actions and notes land on one timeline',
    );
  for (const a of data.alerts.filter((x) => x.relation === 'upstream').slice(0, 1))
    add(
      // triage_service reads a service's workload; a resource (a database, a queue) has none.
      a.catalog_service.startsWith('resource:') ? 'get_service' : 'triage_service',
      { service: a.catalog_service, env },
      `upstream ${a.catalog_service} is alerting too`,
    );
  const am = firing.find((a) => a.source === 'alertmanager');
  if (am)
    add(
      'silence_alert',
      {
        env,
        // The label as Alertmanager has it, which may be an alias of the catalog id.
        matchers: [`alertname="${am.name}"`, `service="${am.backend_service ?? svc}"`, `env="${env}"`],
        duration: '30m',
        comment: `${svc}: mitigation in progress (triage)`,
      },
      'only if the page is known and being handled: silence it while the fix is verified',
    );
  if (!health && !data.deployment)
    add('get_service', { service: svc, env }, 'Kubernetes state was not read; look at the service directly');
  return actions.slice(0, 5);
}

/** Silences that cover the service's alerts, or whose matchers select the service by any of its names. */
function relevantSilences(data: TriageData) {
  const ids = new Set(
    data.alerts.flatMap((a) => a.silenced_by.filter((s) => s.startsWith('silence:')).map((s) => s.slice(8))),
  );
  return (data.silences ?? [])
    .filter((s) => s.state === 'active')
    .filter(
      (s) =>
        ids.has(s.id) ||
        s.matchers.some(
          (m) => ['service', 'app', 'job'].includes(m.name) && data.names.some((n) => safeMatch(m, n)),
        ),
    )
    .slice(0, 5);
}

function safeMatch(
  m: { name: string; value: string; isRegex: boolean; isEqual?: boolean },
  svc: string,
): boolean {
  try {
    return (m.isEqual ?? true) && compileMatcher(m)({ [m.name]: svc });
  } catch {
    return false;
  }
}

function relevantDowntimes(data: TriageData) {
  const tags = new Set(data.names.map((n) => `service:${n}`));
  const ids = new Set(
    data.alerts.flatMap((a) =>
      a.silenced_by.filter((s) => s.startsWith('datadog-downtime:')).map((s) => s.slice(17)),
    ),
  );
  return (data.downtimes ?? [])
    .filter(
      (d) =>
        ids.has(String(d.id)) ||
        d.scope.split(/[\s,]+/).some((t) => tags.has(t.toLowerCase())) ||
        (d.monitorTags ?? []).some((t) => tags.has(t.toLowerCase())),
    )
    .slice(0, 5);
}

function earliest(alerts: TriageAlert[]): TriageAlert | undefined {
  return alerts.filter((a) => a.since).sort((a, b) => Date.parse(a.since!) - Date.parse(b.since!))[0];
}

function minutes(ms: number): number {
  return Math.round(ms / 60_000);
}
