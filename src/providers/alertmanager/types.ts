/**
 * Domain types of the Alertmanager provider: alerts and silences as day2 uses them, close to
 * Alertmanager API v2 but without the fields day2 never needs.
 */

/** A label matcher as silences and filters use it. `isEqual` false negates (`!=`, `!~`). */
export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** Defaults to true, as in Alertmanager. */
  isEqual?: boolean;
}

export type AlertState = 'active' | 'suppressed' | 'unprocessed';

export interface Alert {
  fingerprint: string;
  labels: Record<string, string>;
  /** Text written by whoever configured the alert: data, never instructions. */
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  updatedAt?: string;
  generatorURL?: string;
  receivers: string[];
  status: { state: AlertState; silencedBy: string[]; inhibitedBy: string[] };
}

export interface Silence {
  id: string;
  state: 'active' | 'pending' | 'expired';
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  updatedAt?: string;
  createdBy: string;
  comment: string;
}

export interface ListAlertsOptions {
  /** Each defaults to true, as in Alertmanager. */
  active?: boolean;
  silenced?: boolean;
  inhibited?: boolean;
  unprocessed?: boolean;
  /** Only alerts all of these matchers select (evaluated by Alertmanager). */
  filter?: Matcher[];
  receiver?: string;
}

export interface NewSilence {
  matchers: Matcher[];
  startsAt: Date | string;
  endsAt: Date | string;
  createdBy: string;
  comment: string;
}

/** An alert to post (sandbox seeding only). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: Date | string;
  endsAt?: Date | string;
  generatorURL?: string;
}

/** Prometheus Alertmanager (API v2) in day2's terms. Every call has a timeout; failures are BackendError. */
export interface AlertmanagerProvider {
  listAlerts(opts?: ListAlertsOptions): Promise<Alert[]>;
  /** Posts alerts; for seeding the sandbox, never exposed as a tool. */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  listSilences(opts?: { filter?: Matcher[] }): Promise<Silence[]>;
  /** Creates a silence and returns its id. */
  createSilence(silence: NewSilence): Promise<string>;
  expireSilence(id: string): Promise<void>;
  /** The current (not resolved) alerts a silence with these matchers would silence. */
  previewSilence(matchers: Matcher[]): Promise<Alert[]>;
}
