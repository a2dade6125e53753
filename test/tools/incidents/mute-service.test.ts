import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAlertmanagerProvider } from '../../../src/providers/alertmanager/http-provider.js';
import type { AlertmanagerProvider } from '../../../src/providers/alertmanager/types.js';
import { startIncidentHarness, type IncidentHarness } from './incident-fixture.js';

type Text = { type: string; text?: string }[];
const textOf = (res: { content: unknown }) =>
  (res.content as Text).map((c) => (c.type === 'text' ? c.text : '')).join('\n');

async function approved(h: IncidentHarness, tool: string, args: Record<string, unknown>) {
  const planned = await h.call(tool, args);
  expect(planned.isError, textOf(planned)).toBeFalsy();
  const req = planned.structuredContent as { approval_id: string; plan: Record<string, unknown> };
  await h.rt.approvals.approve(req.approval_id, 'alice', { channel: 'cli' });
  const got = await h.call('get_approval', { approval_id: req.approval_id });
  const token = (got.structuredContent as { approval_token?: string }).approval_token;
  if (!token) throw new Error('no token after approval');
  return { plan: req.plan, run: () => h.call(tool, { ...args, approval_token: token }) };
}

const downtimeWrites = (h: IncidentHarness) =>
  h.sandbox.emulators.datadog.writes.filter((w) => w.path.includes('downtime'));

describe('mute_service, end_silence and one silence id (demo fleet)', () => {
  let h: IncidentHarness;
  let am: AlertmanagerProvider;
  beforeAll(async () => {
    h = await startIncidentHarness();
    am = createAlertmanagerProvider({ url: h.sandbox.emulators.alertmanager!.url, timeoutMs: 5000 });
  }, 60_000);
  afterAll(async () => h?.close());
  beforeEach(() => h.sandbox.emulators.datadog.faults.clear());

  it('a plan and a refusal write nothing to either source', async () => {
    const silences = (await am.listSilences()).length;
    const writes = downtimeWrites(h).length;
    const planned = await h.call('mute_service', {
      service: 'fraud-detector',
      env: 'prod',
      duration: '1h',
      reason: 'backlog known, draining',
    });
    expect(planned.structuredContent).toMatchObject({ status: 'approval_required' });
    const tooLong = await h.call('mute_service', {
      service: 'fraud-detector',
      env: 'prod',
      duration: '30d',
      reason: 'too long',
    });
    expect(tooLong.isError).toBe(true);
    const unknownId = await h.call('end_silence', { id: 'silence:no-such-silence' });
    expect(unknownId.isError).toBe(true);
    expect(textOf(unknownId)).toMatch(/no Alertmanager silence silence:no-such-silence/);
    const badId = await h.call('end_silence', { id: '594136a1' });
    expect(textOf(badId)).toMatch(/silence:<id> or datadog-downtime:<id>/);
    expect((await am.listSilences()).length).toBe(silences);
    expect(downtimeWrites(h).length).toBe(writes);
  });

  it('mute_service: one approval silences the service in Alertmanager and Datadog, as previewed, and end_silence ends both', async () => {
    const args = {
      service: 'fraud-detector',
      env: 'prod',
      duration: '1h',
      reason: 'backlog known, draining',
    };
    const { plan, run } = await approved(h, 'mute_service', args);
    const details = plan as {
      alertmanager: { matchers: string[]; would_silence: { alertname: string }[] };
      datadog: { scope: string; would_mute: { id: number }[] };
    };
    expect(details.alertmanager.matchers).toContain('env="prod"');
    expect(details.alertmanager.would_silence.map((a) => a.alertname)).toEqual(['FraudScoringBacklog']);
    expect(details.datadog.scope).toBe('env:prod');
    expect(details.datadog.would_mute.map((m) => m.id)).toEqual([1005]);

    const done = await run();
    expect(done.isError, textOf(done)).toBeFalsy();
    const ids = (done.structuredContent as { result: { ids: string[] } }).result.ids;
    expect(ids).toHaveLength(2);
    expect(textOf(done)).toContain(ids[0]!);

    // list_alerts names each alert's silence by the very id mute_service returned.
    const listed = await h.call('list_alerts', {
      env: 'prod',
      service: 'fraud-detector',
      include_silenced: true,
    });
    const alerts = (listed.structuredContent as { alerts: { source: string; silenced_by: string[] }[] })
      .alerts;
    expect(alerts.find((a) => a.source === 'alertmanager')?.silenced_by).toContain(ids[0]);
    expect(alerts.find((a) => a.source === 'datadog')?.silenced_by).toContain(ids[1]);
    // The staging fraud-detector stays loud: the mute is scoped to prod.
    const staging = await h.call('list_alerts', {
      env: 'staging',
      service: 'fraud-detector',
      include_silenced: true,
    });
    for (const a of (staging.structuredContent as { alerts: { silenced_by: string[] }[] }).alerts)
      expect(a.silenced_by.filter((s) => ids.includes(s))).toEqual([]);

    // Exactly the previewed alerts went quiet, in every environment's view.
    const everywhere = await h.call('list_alerts', { include_silenced: true, limit: 100 });
    const quiet = (everywhere.structuredContent as { alerts: { id: string; silenced_by: string[] }[] }).alerts
      .filter((a) => a.silenced_by.some((s) => ids.includes(s)))
      .map((a) => a.id);
    expect(quiet.filter((id) => id.startsWith('datadog:'))).toEqual(['datadog:1005']);
    expect(quiet.filter((id) => id.startsWith('alertmanager:'))).toHaveLength(
      details.alertmanager.would_silence.length,
    );

    // Planning end_silence ends nothing: the silence stays active until the approved call.
    const planned = await h.call('end_silence', { id: ids[0]! });
    expect(planned.structuredContent).toMatchObject({ status: 'approval_required' });
    const backendId = ids[0]!.slice('silence:'.length);
    expect((await am.listSilences()).find((s) => s.id === backendId)?.state).toBe('active');
    expect(downtimeWrites(h).filter((w) => w.method === 'DELETE')).toEqual([]);

    for (const id of ids) {
      const end = await approved(h, 'end_silence', { id });
      expect(JSON.stringify(end.plan)).toContain('would_notify_again');
      const ended = await end.run();
      expect(ended.isError, textOf(ended)).toBeFalsy();
    }
    const after = await h.call('list_alerts', { env: 'prod', service: 'fraud-detector' });
    const loud = (after.structuredContent as { alerts: { source: string }[] }).alerts
      .map((a) => a.source)
      .sort();
    expect(loud).toEqual(['alertmanager', 'datadog']);
    const again = await h.call('end_silence', { id: ids[0]! });
    expect(textOf(again)).toMatch(/already expired/);
  });

  it('mute_service is all or nothing: when the Datadog downtime fails the silence is expired and the result says so', async () => {
    const args = { service: 'fraud-detector', env: 'prod', duration: '45m', reason: 'rollback check' };
    const { run } = await approved(h, 'mute_service', args);
    h.sandbox.emulators.datadog.faults.add({
      kind: 'status',
      status: 500,
      method: 'POST',
      path: '/downtime',
    });
    const res = await run();
    expect(res.isError).toBe(true);
    const text = textOf(res);
    expect(text).toMatch(
      /Datadog downtime failed .*rolled back: the Alertmanager silence silence:\S+ was expired/,
    );
    const id = /silence:(\S+) was expired/.exec(text)![1]!;
    expect((await am.listSilences()).find((s) => s.id === id)?.state).toBe('expired');
    const alerts = await am.listAlerts({
      filter: [{ name: 'service', value: 'fraud-detector', isRegex: false }],
    });
    expect(alerts.filter((a) => a.status.silencedBy.includes(id))).toEqual([]);
  });

  it('schedule_downtime returns the id list_alerts shows and end_silence takes', async () => {
    const args = {
      env: 'prod',
      monitor_tags: ['service:checkout'],
      duration: '1h',
      message: 'rollback in progress',
    };
    const done = await (await approved(h, 'schedule_downtime', args)).run();
    const id = (done.structuredContent as { result: { downtime_id: string } }).result.downtime_id;
    expect(id).toMatch(/^datadog-downtime:[0-9a-f-]{36}$/);
    const listed = await h.call('list_alerts', { env: 'prod', service: 'checkout', include_silenced: true });
    const dd = (
      listed.structuredContent as { alerts: { source: string; silenced_by: string[] }[] }
    ).alerts.filter((a) => a.source === 'datadog');
    expect(dd.length).toBeGreaterThan(0);
    for (const a of dd) expect(a.silenced_by).toEqual([id]);
    expect((await (await approved(h, 'end_silence', { id })).run()).isError).toBeFalsy();
    const muted = await h.sandbox.backends.datadog('prod').listMonitors({ tags: ['service:checkout'] });
    expect(muted.filter((m) => m.muted)).toEqual([]);
  });

  it('list_alerts returns each alert’s labels or tags, bounded, and a labels line in the text', async () => {
    await am.postAlerts([
      {
        labels: {
          alertname: 'ManyLabels',
          service: 'cart',
          env: 'prod',
          severity: 'info',
          ...Object.fromEntries(
            Array.from({ length: 30 }, (_, i) => [`l${String(i).padStart(2, '0')}`, 'v'.repeat(300)]),
          ),
        },
        startsAt: new Date(Date.now() - 60_000),
        endsAt: new Date(Date.now() + 3_600_000),
      },
    ]);
    const res = await h.call('list_alerts', { env: 'prod', limit: 100 });
    const alerts = (
      res.structuredContent as { alerts: { name: string; source: string; labels: Record<string, string> }[] }
    ).alerts;
    const am1 = alerts.find((a) => a.name === 'CheckoutHighErrorRate')!;
    expect(am1.labels).toMatchObject({
      service: 'checkout',
      env: 'prod',
      severity: 'critical',
      team: 'checkout-team',
    });
    const dd = alerts.find((a) => a.source === 'datadog' && a.name.includes('[fraud-detector]'))!;
    expect(dd.labels).toMatchObject({ service: 'fraud-detector', env: 'prod' });
    const many = alerts.find((a) => a.name === 'ManyLabels')!;
    expect(Object.keys(many.labels)).toHaveLength(20);
    expect(Math.max(...Object.values(many.labels).map((v) => v.length))).toBeLessThanOrEqual(100);
    expect(textOf(res)).toMatch(/labels: .*severity=critical/);
  });
});
