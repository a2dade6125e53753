import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, logger, v1, v2 } from '@datadog/datadog-api-client';
import { ManualClock } from '../../src/core/clock.js';
import { startDatadogEmulator, type DatadogEmulator } from '../../src/sandbox/datadog/index.js';

const API_KEY = 'test-api-key-0000';
const APP_KEY = 'test-app-key-0000';

function configure(url: string, keys = { apiKeyAuth: API_KEY, appKeyAuth: APP_KEY }): client.Configuration {
  const conf = client.createConfiguration({
    authMethods: keys,
    baseServer: new client.BaseServerConfiguration(url, {}),
  });
  for (const op of [
    'v2.createIncident',
    'v2.getIncident',
    'v2.listIncidents',
    'v2.updateIncident',
    'v2.deleteIncident',
  ])
    conf.unstableOperations[op] = true;
  return conf;
}

async function apiError(p: Promise<unknown>): Promise<{ code: number; body: unknown }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof client.ApiException) return { code: e.code, body: e.body as unknown };
    throw e;
  }
  throw new Error('expected an ApiException');
}

describe('Datadog emulator through @datadog/datadog-api-client', () => {
  const clock = new ManualClock(Date.parse('2026-11-26T12:00:00Z'));
  let emu: DatadogEmulator;
  let monitors: v1.MonitorsApi;
  let downtimes: v2.DowntimesApi;
  let events: v2.EventsApi;
  let incidents: v2.IncidentsApi;

  beforeAll(async () => {
    logger.setLevel('silent');
    emu = await startDatadogEmulator({
      apiKey: API_KEY,
      appKey: APP_KEY,
      clock,
      monitors: [
        {
          id: 101,
          name: 'checkout p99 latency',
          query: 'avg(last_5m):p99:trace.http.request{service:checkout,env:prod} > 2',
          tags: ['service:checkout', 'env:prod'],
          overall_state: 'Alert',
          overall_state_modified: '2026-11-26T11:40:00Z',
          message: 'Checkout is slow @pagerduty-checkout',
        },
        {
          id: 102,
          name: 'checkout error rate',
          query: 'sum(last_5m):sum:trace.http.errors{service:checkout,env:prod} by {host} > 10',
          tags: ['service:checkout', 'env:prod'],
          overall_state: 'Warn',
        },
        {
          id: 103,
          name: 'payments queue depth',
          query: 'avg(last_5m):avg:queue.depth{service:payments,env:prod} > 100',
          tags: ['service:payments', 'env:prod'],
          overall_state: 'OK',
        },
        {
          id: 104,
          name: 'checkout staging latency',
          query: 'avg(last_5m):avg:trace.http.request{service:checkout,env:staging} > 2',
          tags: ['service:checkout', 'env:staging'],
          overall_state: 'No Data',
        },
      ],
      events: [
        {
          title: 'Deploy checkout v42',
          tags: ['service:checkout', 'env:prod'],
          service: 'checkout',
          timestamp: '2026-11-26T11:55:00Z',
          source: 'deploy',
        },
        {
          title: 'Deploy payments v7',
          tags: ['service:payments', 'env:prod'],
          service: 'payments',
          timestamp: '2026-11-26T11:50:00Z',
        },
        {
          title: 'Config change checkout',
          tags: ['service:checkout', 'env:prod'],
          service: 'checkout',
          timestamp: '2026-11-26T11:45:00Z',
        },
        { title: 'Old event', tags: ['service:checkout'], timestamp: '2026-11-25T11:45:00Z' },
      ],
    });
    const conf = configure(emu.url);
    monitors = new v1.MonitorsApi(conf);
    downtimes = new v2.DowntimesApi(conf);
    events = new v2.EventsApi(conf);
    incidents = new v2.IncidentsApi(conf);
  });
  afterAll(async () => emu.close());

  it('refuses wrong keys with 403 {"errors":["Forbidden"]}', async () => {
    const bad = new v1.MonitorsApi(configure(emu.url, { apiKeyAuth: API_KEY, appKeyAuth: 'wrong' }));
    const err = await apiError(bad.listMonitors());
    expect(err.code).toBe(403);
    expect((err.body as { errors: string[] }).errors).toEqual(['Forbidden']);
  });

  it('lists monitors with tag filters, pagination and matching downtimes', async () => {
    const all = await monitors.listMonitors();
    expect(all.map((m) => m.id)).toEqual([101, 102, 103, 104]);
    const prodCheckout = await monitors.listMonitors({ monitorTags: 'service:checkout,env:prod' });
    expect(prodCheckout.map((m) => m.id)).toEqual([101, 102]);
    const page1 = await monitors.listMonitors({ page: 1, pageSize: 3 });
    expect(page1.map((m) => m.id)).toEqual([104]);
    const alert = all[0] as v1.Monitor;
    expect(alert.overallState).toBe('Alert');
    expect(alert.additionalProperties?.['overall_state_modified']).toBe('2026-11-26T11:40:00+00:00');
    expect(alert.matchingDowntimes).toEqual([]);
  });

  it('rejects an invalid group_states with the recorded 400 body', async () => {
    const err = await apiError(monitors.listMonitors({ groupStates: 'notagroupstate' }));
    expect(err).toMatchObject({ code: 400, body: { errors: ['Invalid group_state filters.'] } });
  });

  it('gets a monitor and answers 404 for a missing one', async () => {
    const m = await monitors.getMonitor({ monitorId: 102, withDowntimes: true });
    expect(m.name).toBe('checkout error rate');
    expect(m.multi).toBe(true);
    const err = await apiError(monitors.getMonitor({ monitorId: 999 }));
    expect(err).toMatchObject({ code: 404, body: { errors: ['Monitor not found'] } });
  });

  it('searches monitors with counts and metadata, and rejects an unknown status', async () => {
    const res = await monitors.searchMonitors({ query: 'status:alert service:checkout', perPage: 10 });
    expect(res.monitors?.map((m) => m.id)).toEqual([101]);
    expect(res.metadata).toMatchObject({ totalCount: 1, page: 0, perPage: 10, pageCount: 1 });
    expect(res.monitors?.[0]?.notifications?.[0]?.handle).toBe('pagerduty-checkout');
    const all = await monitors.searchMonitors({ perPage: 2, page: 1 });
    expect(all.metadata).toMatchObject({ totalCount: 4, pageCount: 2 });
    expect(all.counts?.status?.find((c) => c.name === 'Alert')?.count).toBe(1);
    const err = await apiError(monitors.searchMonitors({ query: 'status:notastatus' }));
    expect(err).toMatchObject({
      code: 400,
      body: { errors: ["Query parsing error: 'notastatus' is not a valid monitor status"] },
    });
  });

  it('creates and deletes a monitor, recording the writes', async () => {
    const before = emu.writes.length;
    const m = await monitors.createMonitor({
      body: { name: 'tmp', type: 'metric alert', query: 'avg(last_5m):avg:x{*} > 1', tags: ['env:prod'] },
    });
    expect(m.overallState).toBe('No Data');
    const del = await monitors.deleteMonitor({ monitorId: m.id as number });
    expect(del.deletedMonitorId).toBe(m.id);
    expect(emu.writes.slice(before).map((w) => `${w.method} ${w.status}`)).toEqual([
      'POST 200',
      'DELETE 200',
    ]);
    const bad = await apiError(monitors.createMonitor({ body: { type: 'metric alert', query: '' } }));
    expect(bad.code).toBe(400);
  });

  it('schedules, lists, gets and cancels a downtime (cancel twice is 204, missing is 404)', async () => {
    const created = await downtimes.createDowntime({
      body: {
        data: {
          type: 'downtime',
          attributes: {
            scope: 'env:prod',
            monitorIdentifier: { monitorId: 101 },
            schedule: { end: new Date('2026-11-26T14:00:00Z') },
            message: 'deploy',
          },
        },
      },
    });
    const id = created.data?.id as string;
    expect(created.data?.attributes?.status).toBe('active');
    expect(created.data?.relationships?.monitor?.data?.id).toBe('101');
    const muted = await monitors.getMonitor({ monitorId: 101, withDowntimes: true });
    expect(muted.matchingDowntimes).toHaveLength(1);
    const list = await downtimes.listDowntimes({ currentOnly: true });
    expect(list.data?.map((d) => d.id)).toContain(id);
    expect(list.meta?.page?.totalFilteredCount).toBeGreaterThanOrEqual(1);
    const got = await downtimes.getDowntime({ downtimeId: id });
    expect(got.data?.attributes?.scope).toBe('env:prod');
    await downtimes.cancelDowntime({ downtimeId: id });
    await downtimes.cancelDowntime({ downtimeId: id });
    expect((await downtimes.getDowntime({ downtimeId: id })).data?.attributes?.status).toBe('canceled');
    const missing = await apiError(
      downtimes.cancelDowntime({ downtimeId: '00000000-0000-1234-0000-000000000000' }),
    );
    expect(missing).toMatchObject({
      code: 404,
      body: { errors: ['Downtime 00000000-0000-1234-0000-000000000000 not found'] },
    });
    const missingGet = await apiError(
      downtimes.getDowntime({ downtimeId: '00000000-0000-1234-0000-000000000000' }),
    );
    expect(missingGet.code).toBe(404);
  });

  it('rejects a downtime without a monitor identifier with 400', async () => {
    const err = await apiError(
      downtimes.createDowntime({
        body: {
          data: {
            type: 'downtime',
            attributes: { scope: 'env:prod', monitorIdentifier: { monitorTags: [] } },
          },
        },
      }),
    );
    expect(err.code).toBe(400);
  });

  it('pages events with cursors and filters them by query and time', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await events.listEvents({
        filterQuery: 'env:prod',
        filterFrom: 'now-1h',
        filterTo: 'now',
        pageLimit: 2,
        ...(cursor ? { pageCursor: cursor } : {}),
      });
      const data = page.data ?? [];
      seen.push(...data.map((e) => e.attributes?.attributes?.title ?? ''));
      cursor = page.meta?.page?.after;
      if (data.length === 0) break;
      expect(page.links?.next).toContain('page%5Bcursor%5D=');
    }
    expect(seen).toEqual(['Deploy checkout v42', 'Deploy payments v7', 'Config change checkout']);
    const searched = await events.searchEvents({
      body: {
        filter: { query: 'service:checkout', from: '2026-11-26T11:00:00Z', to: 'now' },
        sort: 'timestamp',
        page: { limit: 10 },
      },
    });
    expect(searched.data?.map((e) => e.attributes?.attributes?.title)).toEqual([
      'Config change checkout',
      'Deploy checkout v42',
    ]);
    const none = await events.listEvents({ filterQuery: 'service:nothing' });
    expect(none.data).toEqual([]);
  });

  it('creates, gets, updates and lists incidents with offset pagination', async () => {
    const ids: string[] = [];
    for (const title of ['checkout down', 'payments slow', 'search degraded']) {
      const res = await incidents.createIncident({
        body: {
          data: {
            type: 'incidents',
            attributes: {
              title,
              customerImpacted: false,
              fields: { severity: { type: 'dropdown', value: 'SEV-2' } },
            },
          },
        },
      });
      ids.push(res.data.id);
      expect(res.data.attributes?.severity).toBe('SEV-2');
    }
    const got = await incidents.getIncident({ incidentId: ids[0] as string });
    expect(got.data.attributes?.title).toBe('checkout down');
    const updated = await incidents.updateIncident({
      incidentId: ids[0] as string,
      body: {
        data: {
          id: ids[0] as string,
          type: 'incidents',
          attributes: { fields: { state: { type: 'dropdown', value: 'resolved' } } },
        },
      },
    });
    expect(updated.data.attributes?.state).toBe('resolved');
    expect(updated.data.attributes?.resolved).toBeInstanceOf(Date);
    const p1 = await incidents.listIncidents({ pageSize: 2 });
    expect(p1.data.map((i) => i.id)).toEqual(ids.slice(0, 2));
    expect(p1.meta?.pagination?.nextOffset).toBe(2);
    const p2 = await incidents.listIncidents({ pageSize: 2, pageOffset: 2 });
    expect(p2.data.map((i) => i.id)).toEqual(ids.slice(2));
    expect(p2.meta?.pagination?.nextOffset).toBeUndefined();
    const missing = await apiError(incidents.getIncident({ incidentId: 'nope' }));
    expect(missing.code).toBe(404);
    const bad = await apiError(
      incidents.updateIncident({
        incidentId: ids[1] as string,
        body: {
          data: {
            id: ids[1] as string,
            type: 'incidents',
            attributes: { fields: { state: { type: 'dropdown', value: 'exploded' } } },
          },
        },
      }),
    );
    expect(bad.code).toBe(400);
  });

  it('injects 429 with X-RateLimit headers, 5xx and dropped connections', async () => {
    emu.faults.add({ kind: 'throttle', path: '/api/v1/monitor', retryAfterSeconds: 7, times: 1 });
    const throttled = await apiError(monitors.listMonitors());
    expect(throttled.code).toBe(429);
    const res = await fetch(`${emu.url}/api/v1/monitor`, {
      headers: { 'DD-API-KEY': API_KEY, 'DD-APPLICATION-KEY': APP_KEY },
    });
    expect(res.status).toBe(200);
    emu.faults.add({ kind: 'throttle', times: 1, retryAfterSeconds: 3 });
    const raw = await fetch(`${emu.url}/api/v1/monitor`, {
      headers: { 'DD-API-KEY': API_KEY, 'DD-APPLICATION-KEY': APP_KEY },
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('x-ratelimit-reset')).toBe('3');
    expect(raw.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await raw.json()).toEqual({ errors: ['Too many requests'] });
    emu.faults.add({ kind: 'status', status: 503, times: 1 });
    expect((await apiError(monitors.listMonitors())).code).toBe(503);
    emu.faults.add({ kind: 'drop', times: 1 });
    await expect(monitors.listMonitors()).rejects.toThrow();
    expect((await monitors.listMonitors()).length).toBe(4);
  });
});
