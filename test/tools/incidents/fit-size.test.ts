import { describe, expect, it } from 'vitest';
import { fitTriage, jsonBytes } from '../../../src/tools/incidents/triage/fit-size.js';
import type { TriageReport } from '../../../src/tools/incidents/triage/analyze.js';

function bigReport(n: number): TriageReport {
  return {
    service: 'checkout',
    env: 'prod',
    window: { since: '2026-11-26T10:00:00.000Z', until: '2026-11-26T12:00:00.000Z' },
    findings: Array.from({ length: n }, (_, i) => ({
      kind: 'alert' as const,
      severity: 'warning' as const,
      title: `alert ${i} `.repeat(8),
      evidence: ['x'.repeat(150), 'y'.repeat(150), 'z'.repeat(150), 'w'.repeat(150)],
      source: 'datadog',
    })),
    suspects: [
      {
        rank: 1,
        cause: 'rollout:14',
        reason: 'deploy of revision 14',
        confidence: 'high',
        evidence: ['a', 'b'],
      },
    ],
    next_actions: [
      {
        tool: 'rollback_deployment',
        arguments: { service: 'checkout', env: 'prod', revision: 13 },
        effect: 'write',
        needs_approval: true,
        why: 'roll back',
      },
    ],
    alerts: Array.from({ length: n }, (_, i) => ({
      id: `am:${i}`,
      service: 'cart',
      relation: i % 2 ? 'downstream' : 'self',
      name: `A${i}`,
      severity: 'warning',
      since: null,
      silenced: false,
      summary: 's'.repeat(200),
    })),
    rollouts: [],
    crash_logs: Array.from({ length: 2 }, (_, i) => ({
      pod: `checkout-abc-${i}`,
      container: 'app',
      reason: 'CrashLoopBackOff',
      lines: Array.from({ length: 8 }, (_, j) => `line ${j} `.repeat(20)),
    })),
    runbooks: ['https://runbooks.acme.test/checkout'],
    gaps: [],
  };
}

describe('fitTriage', () => {
  it('keeps a small report whole', () => {
    const r = fitTriage(bigReport(2), 8192);
    expect(r.truncated).toBe(false);
    expect(r.findings).toHaveLength(2);
    expect(r.size_bytes).toBe(jsonBytes(r));
  });

  it('trims a large report under the cap and keeps the top suspect and the first action', () => {
    const r = fitTriage(bigReport(60), 8192);
    expect(jsonBytes(bigReport(60))).toBeGreaterThan(30_000);
    expect(r.truncated).toBe(true);
    expect(jsonBytes(r)).toBeLessThanOrEqual(8192);
    expect(r.size_bytes).toBe(jsonBytes(r));
    expect(r.suspects[0]?.cause).toBe('rollout:14');
    expect(r.next_actions[0]?.tool).toBe('rollback_deployment');
  });

  it('drops neighbours and older rollouts before the newest rollout: what changed outlasts the rest', () => {
    const report = bigReport(12);
    const rollout = (revision: number) => ({
      kind: 'rollout' as const,
      severity: 'info' as const,
      title: `revision ${revision} rolled out at 2026-11-26T11:0${revision % 10}:00.000Z: app:2.${revision} → app:2.${revision + 1}`,
      evidence: ['e'.repeat(150)],
      source: 'kubernetes',
    });
    report.findings.splice(2, 0, rollout(14), rollout(12), rollout(11));
    const r = fitTriage(report, 4096);
    expect(r.truncated).toBe(true);
    const rollouts = r.findings.filter((f) => f.kind === 'rollout').map((f) => f.title);
    expect(rollouts).toHaveLength(1);
    expect(rollouts[0]).toContain('revision 14 ');
  });
});
