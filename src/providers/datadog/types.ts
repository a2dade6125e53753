/** Overall state of a monitor, in day2's words. */
export type MonitorState = 'ok' | 'alert' | 'warn' | 'no_data' | 'unknown';

export interface DatadogMonitor {
  id: number;
  name: string;
  type: string;
  query: string;
  /** Monitor message as written in Datadog: untrusted text. */
  message: string;
  tags: string[];
  state: MonitorState;
  /** When the overall state last changed (ISO), if Datadog knows. */
  stateSince: string | null;
  priority: number | null;
  /** Whether an active downtime currently mutes the monitor. */
  muted: boolean;
}

/** A monitor in Alert or Warn, normalized for the alerts view. */
export interface DatadogAlert {
  id: string;
  monitorId: number;
  name: string;
  state: 'alert' | 'warn';
  service: string | null;
  env: string | null;
  since: string | null;
  /** First line of the monitor message, capped: untrusted text. */
  summary: string;
  tags: string[];
  muted: boolean;
  /**
   * The downtimes muting it now, by their v2 id (the one scheduleDowntime returns and cancelDowntime
   * takes); a downtime the v2 list does not identify keeps its v1 numeric id.
   */
  downtimes: { id: string; end: string | null }[];
}

export interface MonitorSearchResult {
  monitors: DatadogMonitor[];
  total: number;
  page: number;
  pageCount: number;
  /** Counts by state over all matches (`alert`, `ok`, …). */
  countsByState: Record<string, number>;
}

export interface DatadogDowntime {
  id: string;
  scope: string;
  monitorId: number | null;
  monitorTags: string[] | null;
  start: string | null;
  end: string | null;
  message: string | null;
  status: string;
  canceled: string | null;
  /** When the downtime was scheduled (the v2 `created` attribute). */
  created?: string;
}

export interface ScheduleDowntimeInput {
  scope: string;
  monitorId?: number;
  monitorTags?: string[];
  /** ISO time; now when omitted. */
  start?: string;
  /** ISO time; open-ended when omitted. */
  end?: string;
  message?: string;
}

/** What a downtime would do, computed client side: Datadog has no dry run for downtimes. */
export interface DowntimePlan {
  scope: string;
  monitorIdentifier: { monitorId: number } | { monitorTags: string[] };
  start: string;
  end: string | null;
  /** Monitors the downtime would mute, with their current state. */
  affectedMonitors: { id: number; name: string; state: MonitorState; alreadyMuted: boolean }[];
  warnings: string[];
}

export type ScheduleDowntimeResult =
  { dryRun: true; plan: DowntimePlan } | { dryRun: false; plan: DowntimePlan; downtime: DatadogDowntime };

export interface DatadogEvent {
  id: string;
  title: string;
  /** Event text: untrusted. */
  message: string;
  timestamp: string | null;
  tags: string[];
  service: string | null;
  host: string | null;
  status: string | null;
}

export interface ListEventsInput {
  query?: string;
  /** ISO time, epoch ms, or a relative time such as `now-1h`. */
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export type IncidentState = 'active' | 'stable' | 'resolved';

export interface DatadogIncident {
  id: string;
  publicId: number | null;
  title: string;
  state: string | null;
  severity: string | null;
  customerImpacted: boolean;
  created: string | null;
  modified: string | null;
  resolved: string | null;
  commanderId: string | null;
  summary: string | null;
}

export interface CreateIncidentInput {
  title: string;
  customerImpacted?: boolean;
  severity?: string;
  summary?: string;
  services?: string[];
}

export interface UpdateIncidentInput {
  title?: string;
  state?: IncidentState;
  severity?: string;
  summary?: string;
  customerImpacted?: boolean;
}

/** Datadog in domain terms, for one environment. Errors are BackendError (src/providers/errors.ts). */
export interface DatadogProvider {
  listMonitors(filter?: {
    tags?: string[];
    groupStates?: string[];
    name?: string;
  }): Promise<DatadogMonitor[]>;
  searchMonitors(query: string, page?: { page?: number; perPage?: number }): Promise<MonitorSearchResult>;
  activeAlerts(): Promise<DatadogAlert[]>;
  listDowntimes(opts?: { currentOnly?: boolean }): Promise<DatadogDowntime[]>;
  scheduleDowntime(
    input: ScheduleDowntimeInput,
    opts?: { dryRun?: boolean },
  ): Promise<ScheduleDowntimeResult>;
  cancelDowntime(id: string): Promise<void>;
  listEvents(input?: ListEventsInput): Promise<{ events: DatadogEvent[]; nextCursor: string | null }>;
  createIncident(input: CreateIncidentInput): Promise<DatadogIncident>;
  updateIncident(id: string, input: UpdateIncidentInput): Promise<DatadogIncident>;
  getIncident(id: string): Promise<DatadogIncident>;
  listIncidents(page?: {
    size?: number;
    offset?: number;
  }): Promise<{ incidents: DatadogIncident[]; nextOffset: number | null }>;
}

/** How to reach Datadog for one environment. Keys come from the environment, never from tool arguments. */
export interface DatadogProviderOptions {
  site?: string;
  /** Full base URL such as `http://127.0.0.1:41234`; wins over site and DD_SITE. */
  baseUrl?: string;
  apiKey: string;
  appKey: string;
  /** Tag that scopes this environment's monitors and events, such as `env:prod`. */
  scopeTag?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}
