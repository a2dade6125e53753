import type { v1, v2 } from '@datadog/datadog-api-client';
import type { Logger } from '../../core/log.js';
import { BackendError } from '../errors.js';
import { callContext, loadDatadogApis, type DatadogApis } from './client.js';
import { enumText, isoFromRaw, toAlert, toDowntime, toEvent, toIncident, toMonitor } from './normalize.js';
import { translateDatadogError, type CallContext } from './translate-error.js';
import type {
  CreateIncidentInput,
  DatadogAlert,
  DatadogDowntime,
  DatadogIncident,
  DatadogMonitor,
  DatadogProvider,
  DatadogProviderOptions,
  DowntimePlan,
  ListEventsInput,
  MonitorSearchResult,
  ScheduleDowntimeInput,
  ScheduleDowntimeResult,
  UpdateIncidentInput,
} from './types.js';

const MONITOR_PAGE = 1000;
const MAX_MONITOR_PAGES = 10;
const DOWNTIME_PAGE = 100;
const MAX_DOWNTIME_PAGES = 20;

/** Builds the Datadog provider for one environment; the client is imported on the first call. */
export function createDatadogProvider(
  opts: DatadogProviderOptions,
  deps: { logger?: Logger; now?: () => Date } = {},
): DatadogProvider {
  return new ClientDatadogProvider(opts, deps.logger, deps.now ?? (() => new Date()));
}

class ClientDatadogProvider implements DatadogProvider {
  private apis?: Promise<DatadogApis>;
  private readonly timeoutMs: number;

  constructor(
    private readonly opts: DatadogProviderOptions,
    private readonly logger: Logger | undefined,
    private readonly now: () => Date,
  ) {
    if (!opts.apiKey || !opts.appKey)
      throw new BackendError(
        'datadog',
        'forbidden',
        'Datadog API key or application key is not set (DD_API_KEY / DD_APP_KEY)',
      );
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  private async call<T>(operation: string, fn: (apis: DatadogApis) => Promise<T>): Promise<T> {
    this.apis ??= loadDatadogApis({ ...this.opts, timeoutMs: this.timeoutMs });
    const apis = await this.apis;
    const ctx: CallContext = {};
    try {
      return await callContext.run(ctx, () => fn(apis));
    } catch (e) {
      const err = translateDatadogError(e, operation, ctx, this.timeoutMs);
      this.logger?.warn('datadog call failed', {
        operation,
        kind: err.kind,
        status: err.status,
        error: err.message,
      });
      throw err;
    }
  }

  private scopedTags(tags: string[] = []): string[] {
    const scope = this.opts.scopeTag;
    return scope && !tags.includes(scope) ? [...tags, scope] : tags;
  }

  async listMonitors(
    filter: { tags?: string[]; groupStates?: string[]; name?: string } = {},
  ): Promise<DatadogMonitor[]> {
    const raw = await this.rawMonitors(this.scopedTags(filter.tags), filter);
    return raw.map(toMonitor);
  }

  private async rawMonitors(
    monitorTags: string[],
    filter: { groupStates?: string[]; name?: string } = {},
  ): Promise<v1.Monitor[]> {
    return this.call('list monitors', async (apis) => {
      const out: v1.Monitor[] = [];
      for (let page = 0; page < MAX_MONITOR_PAGES; page++) {
        const batch = await apis.monitors.listMonitors({
          ...(monitorTags.length > 0 ? { monitorTags: monitorTags.join(',') } : {}),
          ...(filter.groupStates?.length ? { groupStates: filter.groupStates.join(',') } : {}),
          ...(filter.name ? { name: filter.name } : {}),
          withDowntimes: true,
          page,
          pageSize: MONITOR_PAGE,
        });
        out.push(...batch);
        if (batch.length < MONITOR_PAGE) break;
      }
      return out;
    });
  }

  async searchMonitors(
    query: string,
    page: { page?: number; perPage?: number } = {},
  ): Promise<MonitorSearchResult> {
    const scope = this.opts.scopeTag;
    const q = scope && !query.includes(scope) ? `${query} tag:"${scope}"`.trim() : query;
    const res = await this.call('search monitors', (apis) =>
      apis.monitors.searchMonitors({
        query: q,
        page: page.page ?? 0,
        perPage: Math.min(page.perPage ?? 30, 100),
      }),
    );
    const countsByState: Record<string, number> = {};
    for (const c of res.counts?.status ?? []) countsByState[String(c.name)] = c.count ?? 0;
    return {
      monitors: (res.monitors ?? []).map((m) => {
        // overall_state_modified, priority and muted_until_ts are not modelled by the client.
        const extra = m.additionalProperties ?? {};
        return {
          id: m.id ?? 0,
          name: m.name ?? '',
          type: enumText(m.type),
          query: m.query ?? '',
          message: '',
          tags: m.tags ?? [],
          state:
            ({ OK: 'ok', Alert: 'alert', Warn: 'warn', 'No Data': 'no_data' } as const)[
              enumText(m.status) as 'OK'
            ] ?? 'unknown',
          stateSince: isoFromRaw(extra['overall_state_modified']),
          priority: typeof extra['priority'] === 'number' ? extra['priority'] : null,
          muted: typeof extra['muted_until_ts'] === 'number' || Boolean(extra['muted']),
        };
      }),
      total: res.metadata?.totalCount ?? 0,
      page: res.metadata?.page ?? 0,
      pageCount: res.metadata?.pageCount ?? 0,
      countsByState,
    };
  }

  async activeAlerts(): Promise<DatadogAlert[]> {
    const raw = await this.rawMonitors(this.scopedTags());
    const rank = { alert: 0, warn: 1 } as const;
    // v1 monitors name their downtimes by a legacy number; v2 ids are what day2 hands out and ends.
    const current = raw.some((m) => (m.matchingDowntimes?.length ?? 0) > 0)
      ? await this.listDowntimes({ currentOnly: true })
      : [];
    return raw
      .map((m) => toAlert(m, this.opts.scopeTag, current))
      .filter((a): a is DatadogAlert => a !== undefined)
      .sort(
        (a, b) =>
          rank[a.state] - rank[b.state] ||
          (b.since ?? '').localeCompare(a.since ?? '') ||
          a.monitorId - b.monitorId,
      );
  }

  async listDowntimes(opts: { currentOnly?: boolean } = {}): Promise<DatadogDowntime[]> {
    return this.call('list downtimes', async (apis) => {
      const out: DatadogDowntime[] = [];
      for (let page = 0; page < MAX_DOWNTIME_PAGES; page++) {
        const res = await apis.downtimes.listDowntimes({
          currentOnly: opts.currentOnly ?? true,
          pageOffset: page * DOWNTIME_PAGE,
          pageLimit: DOWNTIME_PAGE,
        });
        const data = res.data ?? [];
        out.push(...data.map(toDowntime));
        if (data.length < DOWNTIME_PAGE) break;
      }
      return out;
    });
  }

  async scheduleDowntime(
    input: ScheduleDowntimeInput,
    opts: { dryRun?: boolean } = {},
  ): Promise<ScheduleDowntimeResult> {
    const plan = await this.planDowntime(input);
    if (opts.dryRun) return { dryRun: true, plan };
    const identifier =
      'monitorId' in plan.monitorIdentifier
        ? { monitorId: plan.monitorIdentifier.monitorId }
        : { monitorTags: plan.monitorIdentifier.monitorTags };
    const res = await this.call('schedule downtime', (apis) =>
      apis.downtimes.createDowntime({
        body: {
          data: {
            type: 'downtime',
            attributes: {
              scope: plan.scope,
              monitorIdentifier: identifier,
              schedule: { start: new Date(plan.start), ...(plan.end ? { end: new Date(plan.end) } : {}) },
              ...(input.message !== undefined ? { message: input.message } : {}),
            },
          },
        },
      }),
    );
    if (!res.data)
      throw new BackendError(
        'datadog',
        'unavailable',
        'schedule downtime: Datadog answered without a downtime',
      );
    return { dryRun: false, plan, downtime: toDowntime(res.data) };
  }

  /** Validates the request and finds the monitors it would mute: Datadog has no dry run for downtimes. */
  private async planDowntime(input: ScheduleDowntimeInput): Promise<DowntimePlan> {
    const scope = input.scope.trim();
    if (scope === '')
      throw new BackendError(
        'datadog',
        'invalid',
        'schedule downtime: scope is required (for example env:prod)',
      );
    const hasId = input.monitorId !== undefined;
    const hasTags = (input.monitorTags?.length ?? 0) > 0;
    if (hasId === hasTags)
      throw new BackendError(
        'datadog',
        'invalid',
        'schedule downtime: give exactly one of monitorId or monitorTags',
      );
    const now = this.now();
    const start = input.start ? new Date(input.start) : now;
    const end = input.end ? new Date(input.end) : null;
    if (Number.isNaN(start.getTime()))
      throw new BackendError('datadog', 'invalid', `schedule downtime: start is not a time: ${input.start}`);
    if (end && Number.isNaN(end.getTime()))
      throw new BackendError('datadog', 'invalid', `schedule downtime: end is not a time: ${input.end}`);
    if (end && end.getTime() <= start.getTime())
      throw new BackendError('datadog', 'invalid', 'schedule downtime: end must be after start');
    if (end && end.getTime() <= now.getTime())
      throw new BackendError('datadog', 'invalid', 'schedule downtime: end is in the past');

    const monitors = hasId
      ? [
          await this.call('get monitor', (apis) =>
            apis.monitors.getMonitor({ monitorId: input.monitorId as number, withDowntimes: true }),
          ),
        ]
      : await this.rawMonitors((input.monitorTags ?? []).filter((t) => t !== '*'));
    const warnings: string[] = [];
    if (monitors.length === 0)
      warnings.push('no monitor matches these monitor tags today; the downtime would mute nothing now');
    if (!end) warnings.push('the downtime has no end; it mutes until cancelled');
    const scopeTag = this.opts.scopeTag;
    if (
      scopeTag &&
      !scope
        .split(/\s+AND\s+|,/)
        .map((s) => s.trim())
        .includes(scopeTag) &&
      scope !== '*'
    ) {
      warnings.push(`the scope does not include ${scopeTag}; it may mute other environments too`);
    }
    if (scope === '*') warnings.push('scope * mutes every group of the selected monitors');
    return {
      scope,
      monitorIdentifier: hasId
        ? { monitorId: input.monitorId as number }
        : { monitorTags: input.monitorTags as string[] },
      start: start.toISOString(),
      end: end ? end.toISOString() : null,
      affectedMonitors: monitors.map((m) => {
        const mon = toMonitor(m);
        return { id: mon.id, name: mon.name, state: mon.state, alreadyMuted: mon.muted };
      }),
      warnings,
    };
  }

  async cancelDowntime(id: string): Promise<void> {
    await this.call('cancel downtime', (apis) => apis.downtimes.cancelDowntime({ downtimeId: id }));
  }

  async listEvents(
    input: ListEventsInput = {},
  ): Promise<{ events: ReturnType<typeof toEvent>[]; nextCursor: string | null }> {
    const limit = Math.max(1, Math.min(input.limit ?? 25, 100));
    const scope = this.opts.scopeTag;
    const base = input.query?.trim() ?? '';
    const query = scope && !base.includes(scope) ? `${base} ${scope}`.trim() : base || '*';
    const res = await this.call('list events', (apis) =>
      apis.events.listEvents({
        filterQuery: query,
        filterFrom: input.from ?? 'now-1h',
        filterTo: input.to ?? 'now',
        sort: '-timestamp',
        pageLimit: limit,
        ...(input.cursor ? { pageCursor: input.cursor } : {}),
      }),
    );
    const events = (res.data ?? []).map(toEvent);
    const after = res.meta?.page?.after;
    return { events, nextCursor: events.length === limit && after ? after : null };
  }

  async createIncident(input: CreateIncidentInput): Promise<DatadogIncident> {
    const fields: Record<string, v2.IncidentFieldAttributes> = {};
    if (input.severity) fields.severity = { type: 'dropdown', value: input.severity };
    if (input.summary) fields.summary = { type: 'textbox', value: input.summary };
    if (input.services?.length) fields.services = { type: 'autocomplete', value: input.services };
    const res = await this.call('create incident', (apis) =>
      apis.incidents.createIncident({
        body: {
          data: {
            type: 'incidents',
            attributes: {
              title: input.title,
              customerImpacted: input.customerImpacted ?? false,
              ...(Object.keys(fields).length ? { fields } : {}),
            },
          },
        },
      }),
    );
    return toIncident(res.data);
  }

  async updateIncident(id: string, input: UpdateIncidentInput): Promise<DatadogIncident> {
    const fields: Record<string, v2.IncidentFieldAttributes> = {};
    if (input.state) fields.state = { type: 'dropdown', value: input.state };
    if (input.severity) fields.severity = { type: 'dropdown', value: input.severity };
    if (input.summary !== undefined) fields.summary = { type: 'textbox', value: input.summary };
    const res = await this.call('update incident', (apis) =>
      apis.incidents.updateIncident({
        incidentId: id,
        body: {
          data: {
            id,
            type: 'incidents',
            attributes: {
              ...(input.title !== undefined ? { title: input.title } : {}),
              ...(input.customerImpacted !== undefined ? { customerImpacted: input.customerImpacted } : {}),
              ...(Object.keys(fields).length ? { fields } : {}),
            },
          },
        },
      }),
    );
    return toIncident(res.data);
  }

  async getIncident(id: string): Promise<DatadogIncident> {
    const res = await this.call('get incident', (apis) => apis.incidents.getIncident({ incidentId: id }));
    return toIncident(res.data);
  }

  async listIncidents(
    page: { size?: number; offset?: number } = {},
  ): Promise<{ incidents: DatadogIncident[]; nextOffset: number | null }> {
    const size = Math.max(1, Math.min(page.size ?? 25, 100));
    const res = await this.call('list incidents', (apis) =>
      apis.incidents.listIncidents({ pageSize: size, pageOffset: page.offset ?? 0 }),
    );
    const incidents = res.data.map(toIncident);
    const next = res.meta?.pagination?.nextOffset;
    return { incidents, nextOffset: incidents.length === size && typeof next === 'number' ? next : null };
  }
}
