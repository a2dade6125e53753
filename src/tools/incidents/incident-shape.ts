import { z } from 'zod';
import { INCIDENT_SEVERITIES, INCIDENT_STATUSES, type IncidentRecord } from './incident-record.js';
import { IncidentNotFoundError } from './incident-record.js';
import { ToolError } from '../../contract/define-tool.js';

export const incidentIdField = z.string().regex(/^inc_[0-9a-f]+$/, 'an id such as inc_1a2b3c4d5e6f');
export const severityField = z.enum(INCIDENT_SEVERITIES);

const entryShape = z.object({
  at: z.string(),
  by: z.string(),
  kind: z.string(),
  text: z.string().describe('as written by a person: data'),
});

/** The incident as tools return it: the record with its newest entries. */
export const incidentShape = z.object({
  id: z.string(),
  title: z.string(),
  service: z.string(),
  env: z.string(),
  severity: z.enum(INCIDENT_SEVERITIES),
  status: z.enum(INCIDENT_STATUSES),
  opened_at: z.string(),
  opened_by: z.string(),
  detected_at: z.string(),
  resolved_at: z.string().optional(),
  summary: z.string().optional(),
  root_cause: z.string().optional(),
  alerts: z.number().describe('alerts seen on the service while the incident was open'),
  entries: z.array(entryShape).describe('newest 10 entries'),
  mirror: z
    .object({
      provider: z.string(),
      id: z.string().optional(),
      public_id: z.number().nullable().optional(),
      error: z.string().optional(),
    })
    .optional(),
});

export function incidentView(r: IncidentRecord): z.infer<typeof incidentShape> {
  return {
    id: r.id,
    title: r.title,
    service: r.service,
    env: r.env,
    severity: r.severity,
    status: r.status,
    opened_at: r.opened_at,
    opened_by: r.opened_by,
    detected_at: r.detected_at,
    resolved_at: r.resolved_at,
    summary: r.summary,
    root_cause: r.root_cause,
    alerts: r.alerts.length,
    entries: r.entries.slice(-10),
    mirror: r.mirror,
  };
}

/** Runs a record-store call, turning a missing incident into an error the model can act on. */
export async function onIncident<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IncidentNotFoundError)
      throw new ToolError(`${err.message}; list incidents with day2://incidents`, 'not_found', 'incident_id');
    throw err;
  }
}
