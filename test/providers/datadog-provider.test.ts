import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { BackendError } from '../../src/providers/errors.js';
import { createDatadogProvider, type DatadogProvider } from '../../src/providers/datadog/index.js';
import { startDatadogEmulator, type DatadogEmulator } from '../../src/sandbox/datadog/index.js';

const API_KEY = 'dd-api-key-secret-1111';
const APP_KEY = 'dd-app-key-secret-2222';

async function backendError(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BackendError) return e;
    throw e;
  }
  throw new Error('expected a BackendError');
}

describe('DatadogProvider over the official client against the emulator', () => {
  const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
  let emu: DatadogEmulator;
  let dd: DatadogProvider;

  beforeAll(async () => {
    emu = await startDatadogEmulator({
      apiKey: API_KEY,
      appKey: APP_KEY,
      clock,
      monitors: [
        {
          id: 201,
          name: 'checkout p99 latency',
          query: 'avg(last_5m):p99:trace.http.request{service:checkout,env:prod} > 2',
          tags: ['service:checkout', 'env:prod'],
          overall_state: 'Warn',
          overall_state_modified: '2026-11-26T11:30:00Z',
          message: 'Checkout p99 above 2s\n@pagerduty-checkout',
        },
        {
          id: 202,
          name: 'checkout 5xx',
          query: 'sum(last_5m):sum:trace.http.errors{service:checkout,env:prod} > 10',
          tags: ['service:checkout', 'env:prod', 'team:payments'],
          overall_state: 'Alert',
          overall_state_modified: '2026-11-26T11:50:00Z',
          message: 'Too many 5xx on checkout',
        },
        {
          id: 203,
          name: 'payments ok',
          query: 'avg(last_5m):avg:queue.depth{service:payments,env:prod} > 100',
          tags: ['service:payments', 'env:prod'],
          overall_state: 'OK',
        },
        {
          id: 204,
          name: 'checkout staging',
          query: 'avg(last_5m):avg:x{service:checkout,env:staging} > 2',
          tags: ['service:checkout', 'env:staging'],
          overall_state: 'Alert',
        },
      ],
      events: Array.from({ length: 5 }, (_, i) => ({
        title: `deploy ${i}`,
        tags: ['env:prod', 'service:checkout'],
        service: 'checkout',
        timestamp: Date.parse('2026-11-26T11:00:00Z') + i * 60_000,
      })).concat([
        {
          title: 'staging deploy',
          tags: ['env:staging', 'service:checkout'],
          service: 'checkout',
          timestamp: Date.parse('2026-11-26T11:30:00Z'),
        },
      ]),
    });
    dd = createDatadogProvider(
      {
        baseUrl: emu.url,
        site: 'datadoghq.eu',
        apiKey: API_KEY,
        appKey: APP_KEY,
        scopeTag: 'env:prod',
        timeoutMs: 2000,
      },
      { now: () => clock.now() },
    );
  });
  afterAll(async () => emu.close());
  beforeEach(() => emu.faults.clear());

  it('lists monitors scoped by the environment tag, with state and since', async () => {
    const ms = await dd.listMonitors();
    expect(ms.map((m) => m.id)).toEqual([201, 202, 203]);
    expect(ms[0]).toMatchObject({ state: 'warn', stateSince: '2026-11-26T11:30:00.000Z', muted: false });
    const checkout = await dd.listMonitors({ tags: ['service:checkout'] });
    expect(checkout.map((m) => m.id)).toEqual([201, 202]);
  });

  it('searches monitors within the scope', async () => {
    const res = await dd.searchMonitors('status:alert');
    expect(res.monitors.map((m) => m.id)).toEqual([202]);
    expect(res.total).toBe(1);
    expect(res.countsByState).toEqual({ Alert: 1 });
  });

  it('normalizes active alerts: service, env, since, summary; alerts before warnings', async () => {
    const alerts = await dd.activeAlerts();
    expect(alerts.map((a) => a.monitorId)).toEqual([202, 201]);
    expect(alerts[1]).toMatchObject({
      id: 'datadog:monitor:201',
      state: 'warn',
      service: 'checkout',
      env: 'prod',
      since: '2026-11-26T11:30:00.000Z',
      summary: 'Checkout p99 above 2s',
      muted: false,
    });
  });

  it('plans a downtime without writing, then schedules, lists and cancels it', async () => {
    const writes = emu.writes.length;
    const dry = await dd.scheduleDowntime(
      {
        scope: 'env:prod',
        monitorTags: ['service:checkout'],
        end: '2026-11-26T13:00:00Z',
        message: 'deploy',
      },
      { dryRun: true },
    );
    expect(dry.dryRun).toBe(true);
    expect(dry.plan.affectedMonitors.map((m) => m.id).sort()).toEqual([201, 202, 204]);
    expect(emu.writes.length).toBe(writes);

    const done = await dd.scheduleDowntime({
      scope: 'env:prod',
      monitorId: 202,
      end: '2026-11-26T13:00:00Z',
      message: 'deploy',
    });
    if (done.dryRun) throw new Error('expected a real downtime');
    expect(done.plan.affectedMonitors).toEqual([
      { id: 202, name: 'checkout 5xx', state: 'alert', alreadyMuted: false },
    ]);
    expect(done.downtime).toMatchObject({
      scope: 'env:prod',
      monitorId: 202,
      status: 'active',
      end: '2026-11-26T13:00:00.000Z',
      message: 'deploy',
    });
    expect((await dd.activeAlerts()).find((a) => a.monitorId === 202)?.muted).toBe(true);
    expect((await dd.listDowntimes()).map((d) => d.id)).toContain(done.downtime.id);

    await dd.cancelDowntime(done.downtime.id);
    await dd.cancelDowntime(done.downtime.id);
    expect((await dd.listDowntimes()).map((d) => d.id)).not.toContain(done.downtime.id);
    expect(
      (await dd.listDowntimes({ currentOnly: false })).find((d) => d.id === done.downtime.id)?.status,
    ).toBe('canceled');
    const missing = await backendError(dd.cancelDowntime('00000000-0000-1234-0000-000000000000'));
    expect(missing).toMatchObject({ kind: 'not_found', status: 404 });
  });

  it('refuses a bad downtime request before any write, and a missing monitor as not_found', async () => {
    const writes = emu.writes.length;
    expect((await backendError(dd.scheduleDowntime({ scope: 'env:prod' }))).kind).toBe('invalid');
    expect(
      (
        await backendError(
          dd.scheduleDowntime({ scope: 'env:prod', monitorId: 201, end: '2026-11-26T11:00:00Z' }),
        )
      ).kind,
    ).toBe('invalid');
    expect((await backendError(dd.scheduleDowntime({ scope: 'env:prod', monitorId: 999 }))).kind).toBe(
      'not_found',
    );
    expect(emu.writes.length).toBe(writes);
  });

  it('translates a 400 from Datadog into invalid with its message', async () => {
    const err = await backendError(dd.listMonitors({ groupStates: ['bogus'] }));
    expect(err).toMatchObject({ kind: 'invalid', status: 400 });
    expect(err.message).toContain('Invalid group_state filters.');
  });

  it('pages events with a cursor, scoped to the environment', async () => {
    const p1 = await dd.listEvents({ from: '2026-11-26T10:00:00Z', to: 'now', limit: 3 });
    expect(p1.events.map((e) => e.title)).toEqual(['deploy 4', 'deploy 3', 'deploy 2']);
    expect(p1.nextCursor).not.toBeNull();
    const p2 = await dd.listEvents({
      from: '2026-11-26T10:00:00Z',
      to: 'now',
      limit: 3,
      cursor: p1.nextCursor as string,
    });
    expect(p2.events.map((e) => e.title)).toEqual(['deploy 1', 'deploy 0']);
    expect(p2.nextCursor).toBeNull();
    expect(p2.events[0]).toMatchObject({ service: 'checkout', timestamp: '2026-11-26T11:01:00.000Z' });
  });

  it('creates, updates, gets and lists incidents', async () => {
    const created = await dd.createIncident({
      title: 'checkout errors',
      severity: 'SEV-2',
      summary: '5xx spike',
    });
    expect(created).toMatchObject({
      title: 'checkout errors',
      severity: 'SEV-2',
      state: 'active',
      summary: '5xx spike',
      customerImpacted: false,
    });
    const resolved = await dd.updateIncident(created.id, { state: 'resolved' });
    expect(resolved.state).toBe('resolved');
    expect(resolved.resolved).not.toBeNull();
    expect((await dd.getIncident(created.id)).state).toBe('resolved');
    await dd.createIncident({ title: 'second' });
    const p1 = await dd.listIncidents({ size: 1 });
    expect(p1.incidents.map((i) => i.title)).toEqual(['checkout errors']);
    expect(p1.nextOffset).toBe(1);
    const p2 = await dd.listIncidents({ size: 1, offset: 1 });
    expect(p2.incidents.map((i) => i.title)).toEqual(['second']);
    expect((await backendError(dd.getIncident('missing'))).kind).toBe('not_found');
  });

  it('turns wrong keys into forbidden without leaking them', async () => {
    const bad = createDatadogProvider({ baseUrl: emu.url, apiKey: 'wrong-key-3333', appKey: APP_KEY });
    const err = await backendError(bad.listMonitors());
    expect(err).toMatchObject({ kind: 'forbidden', status: 403 });
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain('wrong-key-3333');
    expect(err.message).not.toContain(APP_KEY);
  });

  it('turns 429 into throttled with the X-RateLimit-Reset delay', async () => {
    emu.faults.add({ kind: 'throttle', retryAfterSeconds: 7, times: 1 });
    const err = await backendError(dd.activeAlerts());
    expect(err).toMatchObject({ kind: 'throttled', status: 429, retryAfterMs: 7000 });
  });

  it('turns 5xx, dropped connections and slow answers into unavailable', async () => {
    emu.faults.add({ kind: 'status', status: 502, times: 1 });
    expect(await backendError(dd.listDowntimes())).toMatchObject({ kind: 'unavailable', status: 502 });
    emu.faults.add({ kind: 'drop', times: 1 });
    expect((await backendError(dd.listEvents())).kind).toBe('unavailable');
    const slow = createDatadogProvider({
      baseUrl: emu.url,
      apiKey: API_KEY,
      appKey: APP_KEY,
      timeoutMs: 100,
    });
    emu.faults.add({ kind: 'latency', latencyMs: 1500, times: 1 });
    const err = await backendError(slow.listIncidents());
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('no answer within 100 ms');
    expect((await dd.listIncidents()).incidents.length).toBeGreaterThan(0);
  });

  it('prefers baseUrl over DD_SITE', async () => {
    const before = process.env.DD_SITE;
    process.env.DD_SITE = 'datadoghq.eu';
    try {
      const p = createDatadogProvider({
        baseUrl: emu.url,
        apiKey: API_KEY,
        appKey: APP_KEY,
        scopeTag: 'env:staging',
      });
      expect((await p.listMonitors()).map((m) => m.id)).toEqual([204]);
    } finally {
      if (before === undefined) delete process.env.DD_SITE;
      else process.env.DD_SITE = before;
    }
  });

  it('refuses to build without keys', () => {
    expect(() => createDatadogProvider({ baseUrl: emu.url, apiKey: '', appKey: APP_KEY })).toThrow(
      BackendError,
    );
  });
});
