import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/sandbox/kubernetes/types.js';
import { startIncidentHarness, type IncidentHarness } from './incident-fixture.js';

interface Triage {
  suspects: { cause: string; evidence: string[] }[];
  findings: { kind: string }[];
  crash_logs: { pod: string; container: string; reason: string; lines: string[] }[];
  gaps: { backend: string; env?: string; reason: string }[];
}

const CANARY = 'hunter2-Canary-4711';

describe('triage reads what crashed containers printed last', () => {
  let h: IncidentHarness;
  beforeAll(async () => {
    h = await startIncidentHarness();
  }, 60_000);
  afterAll(async () => h?.close());
  beforeEach(() => h.sandbox.emulators.kubernetes.staging!.faults.clear());

  const triage = async () => {
    const res = await h.call('triage_service', { service: 'notifications', env: 'staging' });
    expect(res.isError).toBeFalsy();
    return {
      t: res.structuredContent as unknown as Triage,
      text: (res.content as { text: string }[])[0]!.text,
    };
  };

  it("puts the crash-looping container's last lines in the report, the top suspect's evidence and the text", async () => {
    const { t, text } = await triage();
    expect(t.gaps).toEqual([]);
    // Two crash-looping replicas of one image: one log is read, not two.
    expect(t.crash_logs).toHaveLength(1);
    const log = t.crash_logs[0]!;
    expect(log).toMatchObject({ container: 'notifications', reason: 'CrashLoopBackOff' });
    expect(log.pod).toMatch(/^notifications-/);
    expect(log.lines.at(-1)).toBe('panic: SENDGRID_API_KEY is not set');
    expect(log.lines[0]).toContain('msg="starting"');
    expect(t.suspects[0]!.evidence.join('\n')).toContain(
      `last log line of ${log.pod}/notifications: panic: SENDGRID_API_KEY is not set`,
    );
    expect(text).toContain('panic: SENDGRID_API_KEY is not set');
  });

  it('masks a credential a crashed container printed', async () => {
    const k = h.sandbox.emulators.kubernetes.staging!;
    const pod = k.store
      .list('v1', 'Pod', 'platform')
      .find((p) => p.metadata.name.startsWith('notifications-'))! as KubeObject & {
      status: { containerStatuses: { lastState: { terminated: { message?: string } } }[] };
    };
    const before = pod.status.containerStatuses[0]!.lastState.terminated.message;
    pod.status.containerStatuses[0]!.lastState.terminated.message = `dial postgres://notify:${CANARY}@db.platform:5432/notify failed\npanic: smtp login refused (password=${CANARY})`;
    k.store.put(pod);
    try {
      const res = await h.call('triage_service', { service: 'notifications', env: 'staging' });
      expect(JSON.stringify(res)).not.toContain(CANARY);
      const t = res.structuredContent as unknown as Triage;
      const lines = t.crash_logs.flatMap((l) => l.lines).join('\n');
      expect(lines).toContain('postgres://notify:[REDACTED]@db.platform:5432/notify');
      expect(lines).toContain('password=[REDACTED]');
    } finally {
      pod.status.containerStatuses[0]!.lastState.terminated.message = before;
      k.store.put(pod);
    }
  });

  it('still answers when the logs cannot be read, and names the gap', async () => {
    h.sandbox.emulators.kubernetes.staging!.faults.add({ kind: 'status', status: 503, path: /\/log\?/ });
    const { t } = await triage();
    expect(t.crash_logs).toEqual([]);
    expect(t.findings.some((f) => f.kind === 'pod_health')).toBe(true);
    expect(t.gaps).toHaveLength(1);
    expect(t.gaps[0]).toMatchObject({ backend: 'kubernetes', env: 'staging' });
    expect(t.gaps[0]!.reason).toMatch(/log of pod notifications-/);
  });
});
