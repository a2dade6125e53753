import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/store.js';
import { VersionConflictError } from '../../store/store.js';

export const INCIDENT_SEVERITIES = ['sev1', 'sev2', 'sev3', 'sev4', 'sev5'] as const;
export const INCIDENT_STATUSES = ['investigating', 'identified', 'mitigated', 'resolved'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** One line of an incident's own history: what a person (or day2) recorded on it, and when. */
export interface IncidentEntry {
  at: string;
  by: string;
  kind: 'opened' | 'note' | 'status' | 'severity' | 'resolved' | 'mirror';
  text: string;
}

/** An alert the incident saw firing, kept so that the timeline outlives the alert itself. */
export interface IncidentAlertRef {
  id: string;
  name: string;
  service: string | null;
  since: string | null;
}

/** Where the incident is mirrored (a Datadog incident), or why mirroring failed. */
export interface IncidentMirror {
  provider: 'datadog';
  id?: string;
  public_id?: number | null;
  error?: string;
}

/** An incident as day2 records it (store collection `incidents`). */
export interface IncidentRecord {
  id: string;
  title: string;
  service: string;
  env: string;
  severity: IncidentSeverity;
  status: IncidentStatus;
  opened_at: string;
  opened_by: string;
  /** When the problem started: the first alert's onset when known, else the opening time. */
  detected_at: string;
  resolved_at?: string;
  resolved_by?: string;
  summary?: string;
  root_cause?: string;
  alerts: IncidentAlertRef[];
  entries: IncidentEntry[];
  mirror?: IncidentMirror;
}

export const INCIDENTS = 'incidents';

/** Thrown for an incident id that does not exist. */
export class IncidentNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`incident_id: no incident ${id}`);
    this.name = 'IncidentNotFoundError';
  }
}

export function newIncidentId(): string {
  return `inc_${randomBytes(6).toString('hex')}`;
}

/** Reads and writes incident records over Store docs, with optimistic concurrency on updates. */
export class IncidentRecords {
  constructor(private readonly store: Store) {}

  async create(record: IncidentRecord): Promise<IncidentRecord> {
    const doc = await this.store.putDoc(INCIDENTS, record.id, record, 0);
    return doc.value;
  }

  async get(id: string): Promise<IncidentRecord> {
    const doc = await this.store.getDoc<IncidentRecord>(INCIDENTS, id);
    if (!doc) throw new IncidentNotFoundError(id);
    return doc.value;
  }

  /** Applies `change` to the stored record; retries when another writer got there first. */
  async update(id: string, change: (r: IncidentRecord) => IncidentRecord): Promise<IncidentRecord> {
    for (let attempt = 0; ; attempt++) {
      const doc = await this.store.getDoc<IncidentRecord>(INCIDENTS, id);
      if (!doc) throw new IncidentNotFoundError(id);
      const next = change(structuredClone(doc.value));
      try {
        return (await this.store.putDoc(INCIDENTS, id, next, doc.version)).value;
      } catch (err) {
        if (!(err instanceof VersionConflictError) || attempt >= 4) throw err;
      }
    }
  }

  /** Every incident, newest opened first (the store pages by id; incidents are few). */
  async list(max = 5000): Promise<IncidentRecord[]> {
    const out: IncidentRecord[] = [];
    let after: string | undefined;
    while (out.length < max) {
      const page = await this.store.listDocs<IncidentRecord>(INCIDENTS, 200, after);
      out.push(...page.map((d) => d.value));
      if (page.length < 200) break;
      after = page.at(-1)?.id;
    }
    return out.sort((a, b) => b.opened_at.localeCompare(a.opened_at));
  }
}
