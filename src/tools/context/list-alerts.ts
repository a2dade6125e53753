import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
import { collectAlerts } from './alerts.js';
import { resolveEnv } from './resolve-service.js';
import { alertShape, gapShape } from './shapes.js';

export const listAlerts = defineTool({
  name: 'list_alerts',
  title: 'List alerts',
  description: 'Active Datadog and Alertmanager alerts, most severe first.',
  toolset: 'context',
  effect: 'read',
  risk: 'low',
  input: {
    env: z.string().optional(),
    service: z.string().optional(),
    severity: z.enum(['critical', 'warning', 'info']).optional(),
    include_silenced: z.boolean().optional(),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    alerts: z.array(alertShape),
    total: z.number(),
    next_cursor: z.string().optional(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const env = args.env === undefined ? undefined : resolveEnv(deps, args.env);
    const service = args.service ? deps.catalog.resolver.entity(args.service, { env }).id : undefined;
    const { alerts, gaps } = await collectAlerts(deps, { env, service });
    const filtered = alerts.filter(
      (a) =>
        (!args.severity || a.severity === args.severity) &&
        (args.include_silenced || a.silenced_by.length === 0),
    );
    const page = pageOf(filtered, args);
    return { alerts: page.items, total: page.total, next_cursor: page.next_cursor, gaps };
  },
  render: (o, args) =>
    answerText({
      head: [o.total ? `${o.total} active alert(s), most severe first:` : 'No active alerts.'],
      rows: o.alerts.map(
        (a) =>
          `${a.severity.toUpperCase()} ${a.env}/${a.service ?? '?'}${a.backend_service ? ` (as ${a.backend_service})` : ''} ${a.name} since ${a.since ?? '?'} [${a.source}]` +
          (a.labels
            ? `\n  labels: ${Object.entries(a.labels)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`
            : ''),
      ),
      tail: [
        pageLine('alerts', { shown: o.alerts.length, ...o }, { tool: 'list_alerts', args }),
        gapsLine(o.gaps),
      ],
    }),
});
