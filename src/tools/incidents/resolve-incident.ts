import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { gapShape } from '../context/shapes.js';
import { IncidentRecords } from './incident-record.js';
import { mirrorUpdate } from './mirror.js';
import { buildTimeline } from './timeline.js';
import { incidentIdField, incidentShape, incidentView, onIncident } from './incident-shape.js';

const MAX_TIMELINE = 40;

export const resolveIncident = defineTool({
  name: 'resolve_incident',
  title: 'Resolve an incident',
  description: 'Resolve an incident; returns its timeline for the postmortem.',
  toolset: 'incidents',
  effect: 'record',
  mirrorsTo: 'Datadog incidents',
  risk: 'low',
  input: {
    incident_id: incidentIdField,
    resolution: z.string().min(3).max(2000).describe('what fixed it'),
    root_cause: z.string().max(2000).optional(),
  },
  output: {
    incident: incidentShape,
    time_to_resolve_minutes: z.number().describe('from detection (first alert, else opening) to resolution'),
    timeline: z.array(
      z.object({
        at: z.string(),
        kind: z.string(),
        source: z.string(),
        text: z.string(),
        by: z.string().optional(),
      }),
    ),
    timeline_truncated: z.boolean(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const records = new IncidentRecords(deps.store);
    const current = await onIncident(() => records.get(args.incident_id));
    if (current.status === 'resolved')
      throw new ToolError(
        `incident_id: ${current.id} was already resolved at ${current.resolved_at ?? '?'}`,
        'conflict',
        'incident_id',
      );
    const at = deps.clock.now().toISOString();
    const by = ctx.principal.id;
    let resolved = await onIncident(() =>
      records.update(args.incident_id, (r) => ({
        ...r,
        status: 'resolved',
        resolved_at: at,
        resolved_by: by,
        root_cause: args.root_cause ?? r.root_cause,
        entries: [...r.entries, { at, by, kind: 'resolved', text: args.resolution }],
      })),
    );
    const mirror = await mirrorUpdate(deps, resolved);
    if (mirror && JSON.stringify(mirror) !== JSON.stringify(resolved.mirror))
      resolved = await records.update(resolved.id, (r) => ({ ...r, mirror }));
    const { entries, gaps } = await buildTimeline(deps, resolved);
    return {
      incident: incidentView(resolved),
      time_to_resolve_minutes: Math.round((Date.parse(at) - Date.parse(resolved.detected_at)) / 60_000),
      timeline: entries.slice(-MAX_TIMELINE),
      timeline_truncated: entries.length > MAX_TIMELINE,
      gaps,
    };
  },
  render: (o) =>
    `${o.incident.id} resolved after ${o.time_to_resolve_minutes} min. Timeline:\n` +
    o.timeline.map((e) => `${e.at} [${e.source}] ${e.kind}: ${e.text}`).join('\n'),
});
