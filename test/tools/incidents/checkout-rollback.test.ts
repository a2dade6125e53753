import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIncidentHarness, type IncidentHarness } from './incident-fixture.js';

interface Triage {
  suspects: { rank: number; cause: string; reason: string; confidence: string; evidence: string[] }[];
  next_actions: {
    tool: string;
    arguments: Record<string, unknown>;
    effect: string;
    needs_approval: boolean;
  }[];
  findings: { kind: string; title: string; evidence: string[]; source: string }[];
  alerts: { name: string; relation: string; summary: string }[];
  gaps: unknown[];
  size_bytes: number;
}

describe('prod checkout: triage → rollback → alert clears', () => {
  let h: IncidentHarness;
  beforeAll(async () => {
    h = await startIncidentHarness();
  }, 60_000);
  afterAll(async () => h?.close());

  it('names the deploy of revision 14 as the top suspect and proposes rolling back to 13, then the rollback clears the alert', async () => {
    const triage = await h.call('triage_service', { service: 'checkout', env: 'prod' });
    expect(triage.isError).toBeFalsy();
    const t = triage.structuredContent as unknown as Triage;
    expect(t.gaps).toEqual([]);
    expect(Buffer.byteLength(JSON.stringify(t))).toBeLessThanOrEqual(8192);
    expect(t.size_bytes).toBeLessThanOrEqual(8192);

    const top = t.suspects[0]!;
    expect(top.cause).toBe('rollout:14');
    expect(top.confidence).toBe('high');
    expect(top.reason).toMatch(
      /deploy of revision 14 \(checkout:2\.7\.3 → checkout:2\.8\.0\), \d+ min before the first alert \(CheckoutHighErrorRate\)/,
    );
    expect(top.evidence.join('\n')).toContain('registry.acme.test/shop/checkout:2.8.0');
    expect(
      t.findings.some(
        (f) => f.kind === 'rollout' && f.source === 'kubernetes' && f.title.includes('revision 14'),
      ),
    ).toBe(true);
    expect(t.findings.some((f) => f.kind === 'alert' && f.title.startsWith('CheckoutHighErrorRate'))).toBe(
      true,
    );
    // Neighbours' alerts come with their relation (api-gateway depends on checkout).
    expect(t.alerts.some((a) => a.relation !== 'self')).toBe(true);

    const rollback = t.next_actions[0]!;
    expect(rollback).toMatchObject({ tool: 'rollback_deployment', effect: 'write', needs_approval: true });
    expect(rollback.arguments).toMatchObject({ service: 'checkout', env: 'prod', revision: 13 });

    const planned = await h.call('rollback_deployment', rollback.arguments);
    expect(planned.isError).toBeFalsy();
    const req = planned.structuredContent as {
      status: string;
      approval_id: string;
      plan: { image_diff: { from: string; to: string }[] };
    };
    expect(req.status).toBe('approval_required');
    expect(req.plan.image_diff[0]!.from).toContain('checkout:2.8.0');
    expect(req.plan.image_diff[0]!.to).toContain('checkout:2.7.3');

    await h.rt.approvals.approve(req.approval_id, 'alice', { channel: 'cli' });
    const approval = await h.call('get_approval', { approval_id: req.approval_id });
    const token = (approval.structuredContent as { approval_token?: string }).approval_token;
    expect(token).toBeTruthy();

    const done = await h.call('rollback_deployment', { ...rollback.arguments, approval_token: token });
    expect(done.isError).toBeFalsy();
    const out = done.structuredContent as {
      status: string;
      result: { ready: boolean; to_revision: number; images: { image: string }[] };
    };
    expect(out.status).toBe('executed');
    expect(out.result.ready).toBe(true);
    expect(out.result.to_revision).toBe(13);
    expect(out.result.images[0]!.image).toContain('checkout:2.7.3');

    // The emulator's pods run the previous image.
    const pods = h.sandbox.emulators.kubernetes
      .prod!.store.list('v1', 'Pod', 'checkout')
      .filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'checkout');
    expect(pods.length).toBeGreaterThan(0);
    for (const p of pods) {
      const images = ((p.spec as { containers: { image: string }[] }).containers ?? []).map((c) => c.image);
      expect(images.every((i) => i.includes('checkout:2.7.3'))).toBe(true);
    }

    // The sandbox reconciler links the image to the alert state: the alert clears.
    await h.reconciler.reconcileNow();
    const am = await h.sandbox.backends.alertmanager('prod').listAlerts();
    expect(am.map((a) => a.labels.alertname)).not.toContain('CheckoutHighErrorRate');
    const alerts = await h.call('list_alerts', { env: 'prod', service: 'checkout' });
    expect((alerts.structuredContent as { alerts: unknown[] }).alerts).toEqual([]);

    // Triage afterwards sees day2's own rollback in the audit log.
    const after = (await h.call('triage_service', { service: 'checkout', env: 'prod' }))
      .structuredContent as unknown as Triage;
    expect(
      after.findings.some((f) => f.kind === 'day2_change' && f.title.includes('rollback_deployment')),
    ).toBe(true);
  }, 60_000);
});
