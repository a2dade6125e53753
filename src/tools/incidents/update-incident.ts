import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { collectAlerts } from '../context/alerts.js';
import { IncidentRecords, type IncidentEntry } from './incident-record.js';
import { mirrorUpdate } from './mirror.js';
import { mergeAlertRefs } from './timeline.js';
import { incidentIdField, incidentShape, incidentView, onIncident, severityField } from './incident-shape.js';

export const updateIncident = defineTool({
  name: 'update_incident',
  title: 'Update an incident',
  description: 'Add a note to an incident or change its fields.',
  toolset: 'incidents',
  effect: 'record',
  mirrorsTo: 'Datadog incidents',
  risk: 'low',
  input: {
    incident_id: incidentIdField,
    note: z.string().min(1).max(2000).optional(),
    status: z.enum(['investigating', 'identified', 'mitigated']).optional(),
    severity: severityField.optional(),
    summary: z.string().max(2000).optional(),
  },
  output: { incident: incidentShape },
  async run(args, ctx) {
    const deps = ctx.deps;
    if (
      args.note === undefined &&
      args.status === undefined &&
      args.severity === undefined &&
      args.summary === undefined
    )
      throw new ToolError(
        'note: give at least one of note, status, severity or summary',
        'invalid_input',
        'note',
      );
    const records = new IncidentRecords(deps.store);
    const current = await onIncident(() => records.get(args.incident_id));
    if (current.status === 'resolved' && (args.status || args.severity))
      throw new ToolError(
        `incident_id: ${current.id} is resolved; only notes and the summary can still change`,
        'conflict',
        'incident_id',
      );
    // Alerts seen now join the record, so that the timeline keeps them after they clear.
    const seen =
      current.status === 'resolved'
        ? []
        : (await collectAlerts(deps, { env: current.env, service: current.service })).alerts;
    const at = deps.clock.now().toISOString();
    const by = ctx.principal.id;
    let updated = await onIncident(() =>
      records.update(args.incident_id, (r) => {
        const entries: IncidentEntry[] = [];
        if (args.status && args.status !== r.status)
          entries.push({ at, by, kind: 'status', text: `status ${r.status} → ${args.status}` });
        if (args.severity && args.severity !== r.severity)
          entries.push({ at, by, kind: 'severity', text: `severity ${r.severity} → ${args.severity}` });
        if (args.note) entries.push({ at, by, kind: 'note', text: args.note });
        if (args.summary !== undefined) entries.push({ at, by, kind: 'note', text: 'summary updated' });
        return {
          ...r,
          status: args.status ?? r.status,
          severity: args.severity ?? r.severity,
          summary: args.summary ?? r.summary,
          alerts: mergeAlertRefs(r.alerts, seen),
          entries: [...r.entries, ...entries].slice(-500),
        };
      }),
    );
    if (updated.mirror || args.status || args.severity) {
      const mirror = await mirrorUpdate(deps, updated);
      if (mirror && JSON.stringify(mirror) !== JSON.stringify(updated.mirror))
        updated = await records.update(updated.id, (r) => ({ ...r, mirror }));
    }
    return { incident: incidentView(updated) };
  },
  render: (o) =>
    `${o.incident.id} is ${o.incident.status} (${o.incident.severity}); ${o.incident.entries.length} recent entries.`,
});
