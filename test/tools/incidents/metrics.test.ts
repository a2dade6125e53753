import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../src/tools/incidents/metrics.js';
import type { IncidentRecord } from '../../../src/tools/incidents/incident-record.js';
import type { Day2Action } from '../../../src/tools/context/changes/day2-writes.js';

const NOW = new Date('2026-11-26T12:00:00Z');
const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();

function incident(
  id: string,
  service: string,
  detectedAgo: number,
  openedAgo: number,
  resolvedAgo?: number,
): IncidentRecord {
  return {
    id,
    title: id,
    service,
    env: 'prod',
    severity: 'sev3',
    status: resolvedAgo === undefined ? 'investigating' : 'resolved',
    opened_at: at(openedAgo),
    opened_by: 'alice',
    detected_at: at(detectedAgo),
    resolved_at: resolvedAgo === undefined ? undefined : at(resolvedAgo),
    alerts: [],
    entries: [],
  };
}

function action(seq: number, service: string, minutesAgo: number, ok = true): Day2Action {
  return {
    seq,
    at: at(minutesAgo),
    tool: 'update_image',
    env: 'prod',
    service,
    principal: 'bot',
    ok,
    targets: [],
  };
}

const base = { now: NOW, windowMs: 30 * 86_400_000, failureWindowMs: 60 * 60_000, external: [] };

describe('computeMetrics', () => {
  it('MTTR runs from detection to resolution; MTBI averages gaps between openings', () => {
    const m = computeMetrics({
      ...base,
      actions: [],
      incidents: [
        incident('a', 'checkout', 300, 290, 240),
        incident('b', 'cart', 130, 120, 100),
        incident('c', 'cart', 20, 0),
      ],
    });
    expect(m.mttr).toMatchObject({ value: 45, sample: 2, unit: 'minutes' });
    // openings at -290, -120, -0 minutes: gaps 170 and 120 minutes → mean 145 min.
    expect(m.mean_time_between_incidents.value).toBeCloseTo(145 / 60, 2);
    expect(m.change_failure_rate.value).toBeNull();
  });

  it('a write followed within the window by a detection on the same service is a failed change', () => {
    const m = computeMetrics({
      ...base,
      incidents: [incident('a', 'checkout', 100, 95, 50)],
      actions: [
        action(1, 'checkout', 130),
        action(2, 'checkout', 200),
        action(3, 'cart', 120),
        action(4, 'checkout', 80),
        action(5, 'checkout', 110, false),
      ],
    });
    // #1 (30 min before detection) failed; #2 (100 min before) and #3 (other service) did not; #4 came during the incident.
    expect(m.change_failure_rate).toMatchObject({ value: 0.25, sample: 4 });
    expect(m.proactive_share).toMatchObject({ proactive: 3, reactive: 1, value: 0.75 });
  });

  it('self-service share counts outside changes against day2 writes; nothing in the window is null', () => {
    const m = computeMetrics({
      ...base,
      incidents: [],
      actions: [action(1, 'checkout', 10)],
      external: [
        { at: at(5), env: 'prod', kind: 'rollout' },
        { at: at(60 * 24 * 40), env: 'prod', kind: 'silence' },
      ],
    });
    expect(m.self_service_share).toMatchObject({ value: 0.5, sample: 2 });
    const empty = computeMetrics({ ...base, incidents: [], actions: [] });
    expect(empty.mttr.value).toBeNull();
    expect(empty.self_service_share.value).toBeNull();
  });
});
