import {
  defineResource,
  defineResourceTemplate,
  ResourceNotFoundError,
} from '../contract/define-resource.js';
import { capList } from '../contract/pages.js';
import { IncidentNotFoundError, IncidentRecords } from '../tools/incidents/incident-record.js';
import { buildTimeline } from '../tools/incidents/timeline.js';
import { collectMetrics } from '../tools/incidents/collect-metrics.js';

export const incidentsResource = defineResource({
  uri: 'day2://incidents',
  name: 'incidents',
  title: 'Incidents',
  description:
    'Incident records, open ones first, newest first: service, env, severity, status, times, Datadog mirror.',
  mimeType: 'application/json',
  async read(ctx) {
    const all = await new IncidentRecords(ctx.deps.store).list(1000);
    const ordered = [
      ...all.filter((i) => i.status !== 'resolved'),
      ...all.filter((i) => i.status === 'resolved'),
    ];
    return {
      json: {
        open: all.filter((i) => i.status !== 'resolved').length,
        ...capList(
          'incidents',
          ordered.map((i) => ({
            id: i.id,
            title: i.title,
            service: i.service,
            env: i.env,
            severity: i.severity,
            status: i.status,
            detected_at: i.detected_at,
            opened_at: i.opened_at,
            resolved_at: i.resolved_at,
            mirror: i.mirror?.id ? `datadog:${i.mirror.public_id ?? i.mirror.id}` : undefined,
            uri: `day2://incidents/${i.id}`,
          })),
          100,
        ),
      },
    };
  },
});

const TIMELINE_CAP = 200;

export const incidentResource = defineResourceTemplate({
  uriTemplate: 'day2://incidents/{id}',
  name: 'incident',
  title: 'Incident',
  description:
    'One incident with its timeline: alert onsets, rollouts, day2 actions, notes and status changes.',
  mimeType: 'application/json',
  async list(ctx) {
    const all = await new IncidentRecords(ctx.deps.store).list(50);
    return all.map((i) => ({ uri: `day2://incidents/${i.id}`, name: `${i.id} ${i.service}/${i.env}` }));
  },
  async complete(variable, prefix, deps) {
    if (variable !== 'id') return [];
    return (await new IncidentRecords(deps.store).list(200))
      .map((i) => i.id)
      .filter((id) => id.startsWith(prefix))
      .slice(0, 50);
  },
  async read(params, ctx) {
    const id = params.id ?? '';
    let inc;
    try {
      inc = await new IncidentRecords(ctx.deps.store).get(id);
    } catch (err) {
      if (err instanceof IncidentNotFoundError) throw new ResourceNotFoundError(`no incident "${id}"`);
      throw err;
    }
    const { entries, gaps } = await buildTimeline(ctx.deps, inc);
    // The newest entries, where a long incident has more than a model should read at once.
    const timeline = entries.slice(-TIMELINE_CAP);
    return {
      json: {
        incident: { ...inc, entries: undefined },
        timeline,
        timeline_total: entries.length,
        ...(entries.length > timeline.length
          ? {
              timeline_left_out: `the ${entries.length - timeline.length} oldest entries; resolve_incident returns the whole timeline`,
            }
          : {}),
        gaps,
      },
    };
  },
});

export const metricsResource = defineResource({
  uri: 'day2://metrics',
  name: 'metrics',
  title: 'Operations metrics',
  description:
    'Over the last 30 days: MTTR, mean time between incidents, change failure rate of day2 writes, the share of Day-2 changes made self-service through day2, and proactive versus reactive work — each with its definition.',
  mimeType: 'application/json',
  async read(ctx) {
    return { json: await collectMetrics(ctx.deps) };
  },
});

/** Incident and metrics resources, for the lead to register. */
export const incidentResources = [incidentsResource, incidentResource, metricsResource];
