import { AsyncLocalStorage } from 'node:async_hooks';
import type { v1, v2 } from '@datadog/datadog-api-client';
import type { CallContext } from './translate-error.js';

/** The API objects the provider uses, built once per environment. */
export interface DatadogApis {
  monitors: v1.MonitorsApi;
  downtimes: v2.DowntimesApi;
  events: v2.EventsApi;
  incidents: v2.IncidentsApi;
}

/** Unstable (preview) operations the provider relies on; the client refuses them unless enabled. */
const UNSTABLE_OPERATIONS = [
  'v2.createIncident',
  'v2.updateIncident',
  'v2.getIncident',
  'v2.listIncidents',
  'v2.deleteIncident',
];

/** Carries the per-call context from the provider method down to the fetch the client calls. */
export const callContext = new AsyncLocalStorage<CallContext>();

export interface ClientOptions {
  site?: string;
  baseUrl?: string;
  apiKey: string;
  appKey: string;
  timeoutMs: number;
}

/**
 * Imports `@datadog/datadog-api-client` (heavy, so only on first use) and builds its configuration:
 * an explicit base URL wins, then an explicit site, then the client's own default (which honours DD_SITE).
 * Every request gets a timeout; 429 answers leave their X-RateLimit-Reset in the call context.
 */
export async function loadDatadogApis(opts: ClientOptions): Promise<DatadogApis> {
  const dd = await import('@datadog/datadog-api-client');
  // The client logs through loglevel to the console; day2 logs failures itself.
  (dd.logger as { setLevel(level: 'silent'): void }).setLevel('silent');
  const base = opts.baseUrl ?? (opts.site ? `https://api.${opts.site}` : undefined);
  const configuration = dd.client.createConfiguration({
    authMethods: { apiKeyAuth: opts.apiKey, appKeyAuth: opts.appKey },
    // createConfiguration hands this to its HTTP library (and overwrites any fetch set on the library).
    fetch: timedFetch(opts.timeoutMs),
    enableRetry: false,
    ...(base ? { baseServer: new dd.client.BaseServerConfiguration(base.replace(/\/+$/, ''), {}) } : {}),
  });
  for (const op of UNSTABLE_OPERATIONS) configuration.unstableOperations[op] = true;
  return {
    monitors: new dd.v1.MonitorsApi(configuration),
    downtimes: new dd.v2.DowntimesApi(configuration),
    events: new dd.v2.EventsApi(configuration),
    incidents: new dd.v2.IncidentsApi(configuration),
  };
}

function timedFetch(timeoutMs: number) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const ctx = callContext.getStore();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const res = await fetch(url, { ...init, signal });
      if (res.status === 429 && ctx) {
        const reset = Number(res.headers.get('x-ratelimit-reset'));
        if (Number.isFinite(reset) && reset >= 0) ctx.retryAfterMs = reset * 1000;
      }
      return res;
    } catch (e) {
      if (ctx && timeout.aborted) ctx.timedOut = true;
      throw e;
    }
  };
}
