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

// One sandbox for both: the read_logs tests move its clock on, so they come last.
let h: IncidentHarness;
beforeAll(async () => {
  h = await startIncidentHarness();
}, 60_000);
afterAll(async () => h?.close());
beforeEach(() => h.sandbox.emulators.kubernetes.staging!.faults.clear());

describe('triage reads what crashed containers printed last', () => {
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

describe('read_logs', () => {
  interface Logs {
    pods: { pod: string; container: string; ready: boolean; restarts: number; lines: string[] }[];
    truncated: boolean;
    gaps: unknown[];
  }
  const read = async (args: Record<string, unknown>) => {
    const res = await h.call('read_logs', args);
    expect(res.isError, JSON.stringify(res.content)).toBeFalsy();
    return res.structuredContent as unknown as Logs;
  };

  it('shows what the bad release keeps logging, filters by match, and stays small', async () => {
    // An hour on, each checkout pod has logged its error 30 times more: too much for one answer.
    h.clock.advance(60 * 60_000);
    const all = await read({ service: 'checkout', env: 'prod', lines: 200 });
    expect(all.gaps).toEqual([]);
    expect(all.pods.length).toBeGreaterThan(1);
    expect(all.pods.length).toBeLessThanOrEqual(3);
    expect(all.pods.flatMap((p) => p.lines).some((l) => l.includes('tax engine client times out'))).toBe(
      true,
    );
    expect(Buffer.byteLength(JSON.stringify(all))).toBeLessThanOrEqual(8192);
    expect(all.truncated).toBe(true);

    const matched = await read({ service: 'checkout', env: 'prod', match: 'TAX ENGINE', lines: 3 });
    for (const p of matched.pods) {
      expect(p.lines.length).toBeGreaterThan(0);
      expect(p.lines.length).toBeLessThanOrEqual(3);
      for (const l of p.lines) expect(l.toLowerCase()).toContain('tax engine');
    }
  });

  it('puts crash-looping pods first and masks a credential they printed', async () => {
    const k = h.sandbox.emulators.kubernetes.staging!;
    const pod = k.store
      .list('v1', 'Pod', 'platform')
      .find((p) => p.metadata.name.startsWith('notifications-'))! as KubeObject & {
      status: { containerStatuses: { lastState: { terminated: { message?: string } } }[] };
    };
    pod.status.containerStatuses[0]!.lastState.terminated.message = `auth failed with api_key=${CANARY}`;
    k.store.put(pod);
    // The clock moved an hour on above: its last crash is older than the default hour.
    expect(
      (await read({ service: 'notifications', env: 'staging' })).pods.every((p) => !p.lines.length),
    ).toBe(true);
    const res = await h.call('read_logs', { service: 'notifications', env: 'staging', since: '1d' });
    expect(JSON.stringify(res)).not.toContain(CANARY);
    const logs = res.structuredContent as unknown as Logs;
    expect(logs.pods[0]).toMatchObject({ ready: false });
    expect(logs.pods.flatMap((p) => p.lines).join('\n')).toContain('api_key=[REDACTED]');
  });

  it('says so, and nothing else, when Kubernetes does not answer; a pod it cannot read is a gap', async () => {
    const prod = h.sandbox.emulators.kubernetes.prod!;
    prod.faults.add({ kind: 'status', status: 503 });
    try {
      const down = await h.call('read_logs', { service: 'checkout', env: 'prod' });
      expect(down.isError).toBe(true);
      expect((down.content as { text: string }[])[0]!.text).toContain(
        'read deployment checkout/checkout: the Kubernetes API failed (503',
      );
    } finally {
      prod.faults.clear();
    }
    prod.faults.add({ kind: 'status', status: 503, path: /\/log\?/, times: 1 });
    try {
      const partial = await read({ service: 'checkout', env: 'prod', since: '1d' });
      expect(partial.gaps).toHaveLength(1);
      expect(partial.pods.length).toBeGreaterThan(0);
    } finally {
      prod.faults.clear();
    }
  });

  it('names the container field when the service has no such container', async () => {
    const res = await h.call('read_logs', { service: 'checkout', env: 'prod', container: 'sidecar' });
    expect(res.isError).toBe(true);
    expect((res.content as { text: string }[])[0]!.text).toContain(
      'container: checkout/checkout has no container "sidecar"',
    );
  });
});
