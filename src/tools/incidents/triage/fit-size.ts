import type { TriageReport } from './analyze.js';

export const DEFAULT_TRIAGE_BYTES = 8192;

/** Size of a value as compact JSON, in UTF-8 bytes: what a client receives as structured content. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * Trims a triage report until its JSON fits `maxBytes` (plus the few bytes of the size fields),
 * dropping the least useful detail first: neighbour alerts, long lists, then evidence.
 * Suspects and next actions are kept whole as long as anything else can give way.
 */
export function fitTriage(
  report: TriageReport,
  maxBytes: number,
): TriageReport & { truncated: boolean; size_bytes: number } {
  const r: TriageReport = structuredClone(report);
  const steps: ((r: TriageReport) => void)[] = [
    (x) => (x.alerts = x.alerts.slice(0, 12)),
    (x) => x.crash_logs.forEach((l) => (l.lines = l.lines.slice(-5))),
    (x) => (x.findings = x.findings.slice(0, 16)),
    (x) => x.findings.forEach((f) => (f.evidence = f.evidence.slice(0, 3))),
    (x) =>
      (x.alerts = x.alerts
        .filter((a) => a.relation === 'self')
        .concat(x.alerts.filter((a) => a.relation !== 'self').slice(0, 3))),
    (x) => x.alerts.forEach((a) => (a.summary = cut(a.summary, 120))),
    (x) => (x.rollouts = x.rollouts.slice(0, 2)),
    (x) => (x.crash_logs = x.crash_logs.slice(0, 1)),
    (x) => (x.findings = x.findings.filter((f) => f.kind !== 'neighbour_alert')),
    // What changed is what an incident is most often about: the newest rollout outlasts the rest.
    (x) =>
      (x.findings = x.findings.filter(
        (f, i, all) => f.kind !== 'rollout' || all.findIndex((g) => g.kind === 'rollout') === i,
      )),
    (x) => (x.alerts = x.alerts.slice(0, 6)),
    (x) => x.findings.forEach((f) => (f.evidence = f.evidence.slice(0, 1))),
    (x) => (x.findings = x.findings.slice(0, 6)),
    (x) => x.alerts.forEach((a) => (a.summary = cut(a.summary, 60))),
    (x) => (x.runbooks = x.runbooks.slice(0, 2)),
    (x) => x.crash_logs.forEach((l) => (l.lines = l.lines.slice(-2))),
    (x) => x.suspects.forEach((s) => (s.evidence = s.evidence.slice(0, 2))),
    (x) => (x.alerts = x.alerts.slice(0, 3)),
    (x) => (x.suspects = x.suspects.slice(0, 3)),
    (x) => (x.findings = x.findings.slice(0, 3)),
    (x) => (x.gaps = x.gaps.slice(0, 3).map((g) => ({ ...g, reason: cut(g.reason, 80) }))),
    (x) => (x.next_actions = x.next_actions.slice(0, 3)),
    (x) => (x.alerts = []),
    (x) => (x.rollouts = []),
    (x) => (x.crash_logs = []),
  ];
  const budget = maxBytes - 48; // room for truncated and size_bytes
  let truncated = false;
  for (const step of steps) {
    if (jsonBytes(r) <= budget) break;
    step(r);
    truncated = true;
  }
  const out = { ...r, truncated, size_bytes: 0 };
  // The size includes its own digits: settle it in two passes.
  out.size_bytes = jsonBytes(out);
  out.size_bytes = jsonBytes(out);
  return out;
}

function cut(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
