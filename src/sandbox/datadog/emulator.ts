import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { dropConnection, FaultInjector } from '../faults.js';
import { DowntimeStore, type DowntimeSeed } from './downtimes.js';
import { EventStore, type EventSeed } from './events.js';
import { DatadogHttpError, readJsonBody, sendJson, sendNoContent } from './http-io.js';
import { IncidentStore, type IncidentSeed } from './incidents.js';
import { MonitorStore, type MonitorSeed } from './monitors.js';
import { ServiceDefinitionStore, type ServiceDefinitionSeed } from './service-definitions.js';

export interface DatadogEmulatorOptions {
  apiKey: string;
  appKey: string;
  monitors?: MonitorSeed[];
  downtimes?: DowntimeSeed[];
  events?: EventSeed[];
  incidents?: IncidentSeed[];
  serviceDefinitions?: ServiceDefinitionSeed[];
  clock?: Clock;
}

/** A write request the emulator accepted or refused, for tests that assert what the backend saw. */
export interface DatadogWrite {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

export interface DatadogEmulator {
  /** Base URL such as `http://127.0.0.1:41234`, to give the client as its server. */
  url: string;
  writes: DatadogWrite[];
  faults: FaultInjector;
  monitors: MonitorStore;
  downtimes: DowntimeStore;
  events: EventStore;
  incidents: IncidentStore;
  close(): Promise<void>;
}

type Handler = (ctx: { params: string[]; query: URLSearchParams; body: unknown; baseUrl: string }) => unknown;
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** Status of a successful answer; 204 sends no body. */
  status?: number;
}

/**
 * Starts an emulator of the Datadog API on 127.0.0.1 (a free port) that answers what
 * `@datadog/datadog-api-client` asks of monitors (v1), downtimes, events, incidents and service
 * definitions (v2), with the real status codes, error bodies and rate-limit headers. Keys are
 * checked on every request (DD-API-KEY and DD-APPLICATION-KEY); faults are injected before anything else.
 */
export async function startDatadogEmulator(opts: DatadogEmulatorOptions): Promise<DatadogEmulator> {
  const clock = opts.clock ?? systemClock;
  const faults = new FaultInjector();
  const downtimes = new DowntimeStore(clock, opts.downtimes);
  const monitors = new MonitorStore(clock, downtimes, opts.monitors);
  const events = new EventStore(clock, opts.events);
  const incidents = new IncidentStore(clock, opts.incidents);
  const services = new ServiceDefinitionStore(clock, opts.serviceDefinitions);
  const writes: DatadogWrite[] = [];

  const seg = '([^/]+)';
  const routes: Route[] = [
    { method: 'GET', pattern: /^\/api\/v1\/validate$/, handler: () => ({ valid: true }) },
    { method: 'GET', pattern: /^\/api\/v1\/monitor$/, handler: ({ query }) => monitors.list(query) },
    { method: 'POST', pattern: /^\/api\/v1\/monitor$/, handler: ({ body }) => monitors.create(body) },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/monitor\/search$/,
      handler: ({ query }) => monitors.search(query),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v1/monitor/${seg}$`),
      handler: ({ params, query }) => monitors.getOne(params[0] as string, query),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v1/monitor/${seg}$`),
      handler: ({ params }) => monitors.delete(params[0] as string),
    },
    { method: 'POST', pattern: /^\/api\/v2\/downtime$/, handler: ({ body }) => downtimes.create(body) },
    { method: 'GET', pattern: /^\/api\/v2\/downtime$/, handler: ({ query }) => downtimes.list(query) },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v2/downtime/${seg}$`),
      handler: ({ params }) => downtimes.getOne(params[0] as string),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v2/downtime/${seg}$`),
      handler: ({ params }) => downtimes.cancel(params[0] as string),
      status: 204,
    },
    {
      method: 'GET',
      pattern: /^\/api\/v2\/events$/,
      handler: ({ query, baseUrl }) => events.list(query, baseUrl),
    },
    { method: 'POST', pattern: /^\/api\/v2\/events\/search$/, handler: ({ body }) => events.search(body) },
    {
      method: 'POST',
      pattern: /^\/api\/v2\/incidents$/,
      handler: ({ body }) => incidents.create(body),
      status: 201,
    },
    { method: 'GET', pattern: /^\/api\/v2\/incidents$/, handler: ({ query }) => incidents.list(query) },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v2/incidents/${seg}$`),
      handler: ({ params }) => incidents.getOne(params[0] as string),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^/api/v2/incidents/${seg}$`),
      handler: ({ params, body }) => incidents.update(params[0] as string, body),
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/api/v2/incidents/${seg}$`),
      handler: ({ params }) => incidents.delete(params[0] as string),
      status: 204,
    },
    { method: 'GET', pattern: /^\/api\/v2\/services\/definitions$/, handler: () => services.list() },
    {
      method: 'GET',
      pattern: new RegExp(`^/api/v2/services/definitions/${seg}$`),
      handler: ({ params }) => services.getOne(params[0] as string),
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator');
    const fault = await faults.decide(method, url.pathname + url.search);
    if (fault.kind === 'drop') return dropConnection(req, res);
    if (fault.kind === 'status') {
      req.resume();
      if (fault.status === 429) {
        const reset = String(fault.retryAfterSeconds ?? 1);
        sendJson(res, 429, fault.body ?? { errors: ['Too many requests'] }, {
          'x-ratelimit-limit': '100',
          'x-ratelimit-period': '60',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': reset,
          'x-ratelimit-name': 'emulated_rate_limit',
        });
      } else
        sendJson(
          res,
          fault.status,
          fault.body ?? { errors: [fault.status >= 500 ? 'Internal Server Error' : 'Error'] },
        );
      return;
    }

    const apiKey = req.headers['dd-api-key'];
    const appKey = req.headers['dd-application-key'];
    const needsAppKey = url.pathname !== '/api/v1/validate';
    if (apiKey !== opts.apiKey || (needsAppKey && appKey !== opts.appKey)) {
      req.resume();
      return sendJson(res, 403, { errors: ['Forbidden'] });
    }

    const candidates = routes.filter((r) => r.pattern.test(url.pathname));
    const route = candidates.find((r) => r.method === method);
    if (!route) {
      req.resume();
      if (candidates.length > 0) return sendJson(res, 405, { errors: ['Method Not Allowed'] });
      return sendJson(res, 404, { errors: ['Not Found'] });
    }
    const params = (route.pattern.exec(url.pathname) ?? []).slice(1).map((p) => decodeURIComponent(p));
    const isWrite = method !== 'GET' && !(method === 'POST' && url.pathname === '/api/v2/events/search');
    let body: unknown;
    try {
      body = await readJsonBody(req);
      const result = route.handler({
        params,
        query: url.searchParams,
        body,
        baseUrl: `http://${req.headers.host ?? '127.0.0.1'}`,
      });
      const status = route.status ?? 200;
      if (isWrite) writes.push({ method, path: url.pathname, status, body });
      if (status === 204) sendNoContent(res);
      else sendJson(res, status, result);
    } catch (e) {
      if (!(e instanceof DatadogHttpError)) throw e;
      if (isWrite) writes.push({ method, path: url.pathname, status: e.status, body });
      sendJson(res, e.status, { errors: e.errors, ...e.extra });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      process.stderr.write(`datadog emulator: ${e instanceof Error ? e.message : String(e)}\n`);
      if (!res.headersSent) sendJson(res, 500, { errors: ['Internal Server Error'] });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    writes,
    faults,
    monitors,
    downtimes,
    events,
    incidents,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
