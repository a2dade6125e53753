import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { gapsLine } from '../../contract/answer-text.js';
import { envField, serviceField } from '../../contract/fields.js';
import { resolveEnv } from '../context/resolve-service.js';
import { gapShape } from '../context/shapes.js';
import { collectAlerts } from '../context/alerts.js';
import { IncidentRecords, newIncidentId, type IncidentRecord } from './incident-record.js';
import { mirrorOpen } from './mirror.js';
import { mergeAlertRefs } from './timeline.js';
import { incidentShape, incidentView, severityField } from './incident-shape.js';

export const openIncident = defineTool({
  name: 'open_incident',
  title: 'Open an incident',
  description: 'Open an incident; its timeline gathers alerts, changes, notes.',
  toolset: 'incidents',
  effect: 'record',
  mirrorsTo: 'Datadog incidents',
  risk: 'low',
  input: {
    service: serviceField,
    env: envField,
    title: z.string().min(3).max(200),
    severity: severityField.optional().meta({ default: 'sev3' }),
    summary: z.string().max(2000).optional(),
    detected_at: z.string().datetime({ offset: true }).optional(),
  },
  output: { incident: incidentShape, gaps: z.array(gapShape) },
  async run(args, ctx) {
    const deps = ctx.deps;
    const env = resolveEnv(deps, args.env);
    const svc = deps.catalog.resolver.service(args.service, { env });
    const records = new IncidentRecords(deps.store);
    const open = (await records.list(500)).find(
      (i) => i.service === svc.id && i.env === env && i.status !== 'resolved',
    );
    if (open)
      throw new ToolError(
        `incident ${open.id} is already open on ${svc.id} in ${env} ("${open.title}"); add to it with update_incident`,
        'conflict',
        'service',
      );
    const now = deps.clock.now().toISOString();
    const detectedAt = args.detected_at && new Date(args.detected_at).toISOString();
    if (detectedAt && detectedAt > now)
      throw new ToolError(
        `detected_at: ${args.detected_at} is in the future (now is ${now}); give the time the problem was noticed`,
        'invalid_input',
        'detected_at',
      );
    const { alerts, gaps } = await collectAlerts(deps, { env, service: svc.id });
    const onsets = alerts
      .map((a) => a.since)
      .filter((s): s is string => Boolean(s) && s! <= now)
      .sort();
    const by = ctx.principal.id;
    const record: IncidentRecord = {
      id: newIncidentId(),
      title: args.title,
      service: svc.id,
      env,
      severity: args.severity ?? 'sev3',
      status: 'investigating',
      opened_at: now,
      opened_by: by,
      // Detection as the caller knows it (a page, a customer report), else the first alert's onset.
      detected_at: detectedAt ?? onsets[0] ?? now,
      summary: args.summary,
      alerts: mergeAlertRefs([], alerts),
      entries: [{ at: now, by, kind: 'opened', text: `opened (${args.severity ?? 'sev3'}): ${args.title}` }],
    };
    let stored = await records.create(record);
    const mirror = await mirrorOpen(deps, stored);
    if (mirror) {
      stored = await records.update(stored.id, (r) => ({
        ...r,
        mirror,
        entries: [
          ...r.entries,
          {
            at: deps.clock.now().toISOString(),
            by: 'day2',
            kind: 'mirror',
            text: mirror.error
              ? `Datadog mirror failed: ${mirror.error}`
              : `mirrored to Datadog incident ${mirror.public_id ?? mirror.id}`,
          },
        ],
      }));
    }
    return { incident: incidentView(stored), gaps };
  },
  render: (o) =>
    `Opened ${o.incident.id} (${o.incident.severity}) on ${o.incident.service}/${o.incident.env}: ${o.incident.title}` +
    `\nDetected at ${o.incident.detected_at} (MTTR runs from here; give detected_at when it was noticed earlier).` +
    (o.incident.mirror
      ? o.incident.mirror.error
        ? `\nDatadog mirror failed: ${o.incident.mirror.error}`
        : `\nMirrored to Datadog (${o.incident.mirror.public_id ?? o.incident.mirror.id})`
      : '') +
    (o.gaps.length ? `\n${gapsLine(o.gaps)}` : ''),
});
