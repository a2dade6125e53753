import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertmanagerProvider } from '../../../src/providers/alertmanager/http-provider.js';
import type { AlertmanagerProvider } from '../../../src/providers/alertmanager/types.js';
import { startIncidentHarness, type IncidentHarness } from './incident-fixture.js';

const NORTH = fileURLToPath(new URL('../../fixtures/fleets/north.yaml', import.meta.url));

type Text = { type: string; text?: string }[];
const textOf = (res: { content: unknown }) =>
  (res.content as Text).map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/**
 * Silences and downtimes stay in their environment unless the call widens them on purpose, on a
 * fleet whose environments are `live` and `qa` (nothing here knows the demo fleet's names).
 */
describe('silences and downtimes are scoped to their environment (north fleet)', () => {
  let h: IncidentHarness;
  let am: AlertmanagerProvider;
  beforeAll(async () => {
    h = await startIncidentHarness({ fleet: NORTH });
    am = createAlertmanagerProvider({ url: h.sandbox.emulators.alertmanager!.url, timeoutMs: 5000 });
    const window = { startsAt: new Date(Date.now() - 60_000), endsAt: new Date(Date.now() + 3_600_000) };
    await am.postAlerts(
      ['live', 'qa'].map((env) => ({
        labels: { alertname: 'LedgerLagWarning', service: 'invoice-worker', env, severity: 'warning' },
        ...window,
      })),
    );
  }, 60_000);
  afterAll(async () => h?.close());

  const approve = async (tool: string, args: Record<string, unknown>) => {
    const planned = await h.call(tool, args);
    expect(planned.isError, textOf(planned)).toBeFalsy();
    const req = planned.structuredContent as {
      approval_id: string;
      summary: string;
      plan: Record<string, unknown>;
    };
    await h.rt.approvals.approve(req.approval_id, 'alice', { channel: 'cli' });
    const got = await h.call('get_approval', { approval_id: req.approval_id });
    const token = (got.structuredContent as { approval_token: string }).approval_token;
    return { req, run: () => h.call(tool, { ...args, approval_token: token }) };
  };

  it('silence_alert severity="warning" in live adds env="live" and leaves qa loud', async () => {
    const args = { env: 'live', matchers: ['severity="warning"'], duration: '30m', comment: 'known lag' };
    const { req, run } = await approve('silence_alert', args);
    expect(req.summary).toContain('covers live only (day2 added env="live")');
    const plan = req.plan as { matchers: string[]; would_silence: { env: string }[] };
    expect(plan.matchers).toEqual(['severity="warning"', 'env="live"']);
    expect(plan.would_silence.map((a) => a.env)).toEqual(['live']);
    const id = (await run()).structuredContent as { result: { silence_id: string } };
    const silenceId = id.result.silence_id.slice('silence:'.length);
    const hit = (await am.listAlerts()).filter((a) => a.labels.alertname === 'LedgerLagWarning');
    expect(
      Object.fromEntries(hit.map((a) => [a.labels.env, a.status.silencedBy.includes(silenceId)])),
    ).toEqual({ live: true, qa: false });
    await am.expireSilence(silenceId);
  });

  it('a matcher reaching other environments is refused, and all_environments widens it in the approved plan', async () => {
    const silences = (await am.listSilences()).length;
    const wide = await h.call('silence_alert', {
      env: 'live',
      matchers: ['alertname="LedgerLagWarning"', 'env=~"live|qa"'],
      duration: '30m',
      comment: 'both',
    });
    expect(wide.isError).toBe(true);
    expect(textOf(wide)).toMatch(/selects environments other than live; pass all_environments: true/);
    expect((await am.listSilences()).length).toBe(silences);

    const args = {
      env: 'live',
      matchers: ['alertname="LedgerLagWarning"'],
      duration: '30m',
      comment: 'both, on purpose',
      all_environments: true,
    };
    const { req, run } = await approve('silence_alert', args);
    expect(req.summary).toContain('covers every environment (all_environments: true)');
    expect((req.plan as { would_silence: { env: string }[] }).would_silence.map((a) => a.env).sort()).toEqual(
      ['live', 'qa'],
    );
    // The widening is bound into the approval: its token does not buy the call without it.
    const { all_environments: _wide, ...narrow } = args;
    const token = (await h.call('get_approval', { approval_id: req.approval_id })).structuredContent as {
      approval_token: string;
    };
    const mismatch = await h.call('silence_alert', { ...narrow, approval_token: token.approval_token });
    // Not executed: the narrower call is another action, which needs its own approval.
    expect(mismatch.structuredContent).toMatchObject({ status: 'approval_required' });
    expect((mismatch.structuredContent as { approval_id: string }).approval_id).not.toBe(req.approval_id);
    expect((await am.listSilences()).length).toBe(silences);
    const done = await run();
    expect(done.isError, textOf(done)).toBeFalsy();
    const id = (done.structuredContent as { result: { silence_id: string } }).result.silence_id;
    await am.expireSilence(id.slice('silence:'.length));
  });

  it('schedule_downtime ANDs the env tag into a given scope and refuses another env without all_environments', async () => {
    const writes = () => h.sandbox.emulators.datadog.writes.filter((w) => w.path.includes('downtime')).length;
    const before = writes();
    const other = await h.call('schedule_downtime', {
      env: 'live',
      monitor_tags: ['service:billing-api'],
      scope: 'env:qa',
      duration: '1h',
      message: 'wrong env',
    });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toMatch(/env:qa reaches beyond env:live; pass all_environments: true/);
    expect(writes()).toBe(before);

    const args = {
      env: 'live',
      monitor_tags: ['service:billing-api'],
      scope: 'service:billing-api',
      duration: '1h',
      message: 'tax fix rolling out',
    };
    const { req, run } = await approve('schedule_downtime', args);
    expect((req.plan as { scope: string }).scope).toBe('service:billing-api AND env:live');
    expect(writes()).toBe(before);
    const done = await run();
    const id = (done.structuredContent as { result: { downtime_id: string } }).result.downtime_id;
    const listed = await h.call('list_alerts', {
      env: 'live',
      service: 'billing-api',
      include_silenced: true,
    });
    const dd = (
      listed.structuredContent as { alerts: { source: string; silenced_by: string[] }[] }
    ).alerts.find((a) => a.source === 'datadog');
    expect(dd?.silenced_by).toEqual([id]);
    const end = await approve('end_silence', { id });
    expect(end.req.summary).toContain(`end ${id}`);
    expect((await end.run()).isError).toBeFalsy();
  });

  it('mute_service billing-api in live: both sources, live only', async () => {
    const { req, run } = await approve('mute_service', {
      service: 'billing-api',
      env: 'live',
      duration: '20m',
      reason: 'tax rounding fix deploying',
    });
    const plan = req.plan as {
      alertmanager: { would_silence: { alertname: string }[] };
      datadog: { would_mute: { id: number }[] };
    };
    expect(plan.alertmanager.would_silence.map((a) => a.alertname)).toEqual(['InvoiceTotalsWrong']);
    expect(plan.datadog.would_mute.map((m) => m.id)).toEqual([7001]);
    const done = await run();
    const ids = (done.structuredContent as { result: { ids: string[] } }).result.ids;
    for (const id of ids) expect((await (await approve('end_silence', { id })).run()).isError).toBeFalsy();
  });
});
