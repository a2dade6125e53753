import { z } from 'zod';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { answerText, gapsLine } from '../../contract/answer-text.js';
import { gapShape } from '../context/shapes.js';
import { IncidentRecords } from './incident-record.js';
import { mirrorUpdate } from './mirror.js';
import { buildTimeline } from './timeline.js';
import { incidentIdField, incidentShape, incidentView, onIncident } from './incident-shape.js';
import { resolveIncidentTarget } from './resolve-target.js';
import {
  holdShape,
  holdView,
  newHoldId,
  saveHold,
  sameImage,
  shortImage,
  type Hold,
} from '../deploys/holds.js';
import type { Deps } from '../../contract/deps.js';
import type { IncidentRecord } from './incident-record.js';

const MAX_TIMELINE = 40;

export const resolveIncident = defineTool({
  name: 'resolve_incident',
  title: 'Resolve an incident',
  description: 'Resolve an incident; returns its timeline.',
  toolset: 'incidents',
  effect: 'record',
  mirrorsTo: 'Datadog incidents',
  risk: 'low',
  input: {
    incident_id: incidentIdField,
    resolution: z.string().min(3).max(2000).describe('what fixed it'),
    root_cause: z.string().max(2000).optional(),
    bad_version: z.string().optional().describe('tag/image to hold'),
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
    hold: holdShape.optional(),
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
    // The bad version is found in the deployment's history before anything changes: a name that
    // matches nothing is an error, not a resolved incident without its hold.
    const bad = args.bad_version ? await findBadImage(deps, current, args.bad_version) : undefined;
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
    let hold: Hold | undefined;
    if (bad)
      hold = await saveHold(deps.store, {
        id: newHoldId(),
        env: current.env,
        service: current.service,
        namespace: bad.namespace,
        deployment: bad.deployment,
        container: bad.container,
        image: bad.image,
        reason: args.root_cause ?? args.resolution,
        held_by: by,
        incident_id: current.id,
        source: 'incident',
        created_at: at,
      });
    return {
      ...(hold ? { hold: holdView(hold) } : {}),
      incident: incidentView(resolved),
      time_to_resolve_minutes: Math.round((Date.parse(at) - Date.parse(resolved.detected_at)) / 60_000),
      timeline: entries.slice(-MAX_TIMELINE),
      timeline_truncated: entries.length > MAX_TIMELINE,
      gaps,
    };
  },
  render: (o) =>
    answerText({
      head: [
        `${o.incident.id} resolved after ${o.time_to_resolve_minutes} min.${o.hold ? ` Held ${shortImage(o.hold.image)} in ${o.hold.env} (${o.hold.id}): no tool offers it again until release_hold.` : ''} Timeline:`,
        o.timeline_truncated &&
          `(the oldest entries were left out: the last ${MAX_TIMELINE} are shown; day2://incidents/${o.incident.id} has up to 200)`,
      ],
      rows: o.timeline.map((e) => `${e.at} [${e.source}] ${e.kind}: ${e.text}`),
      tail: [gapsLine(o.gaps)],
    }),
});

/** The image `version` names (a tag, or an image reference) in the incident's deployment history. */
async function findBadImage(
  deps: Deps,
  incident: IncidentRecord,
  version: string,
): Promise<{ image: string; namespace: string; deployment: string; container: string }> {
  const w = resolveIncidentTarget(deps, incident.service, incident.env);
  const [d, history] = await Promise.all([
    w.k8s.getDeployment(w.namespace, w.name),
    w.k8s.listReplicaSets(w.namespace, undefined, w.name),
  ]);
  const seen = [...d.images, ...history.flatMap((r) => r.images)];
  const wanted = version.trim();
  const hit = seen.find(
    (i) =>
      sameImage(i.image, wanted) || (!/[:@/]/.test(wanted) && shortImage(i.image).endsWith(`:${wanted}`)),
  );
  if (!hit) {
    const known = [...new Set(seen.map((i) => shortImage(i.image)))].slice(0, 8);
    throw new ToolError(
      `bad_version: ${w.namespace}/${w.name} in ${incident.env} never ran "${wanted}"; its history has ${known.join(', ') || 'no images'}`,
      'not_found',
      'bad_version',
    );
  }
  return { image: hit.image, namespace: w.namespace, deployment: w.name, container: hit.container };
}
