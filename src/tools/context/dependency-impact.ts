import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { serviceField } from '../../contract/fields.js';
import { collectAlerts } from './alerts.js';
import { dependencyImpact } from '../../catalog/graph.js';
import { resolveEnv, resolveService } from './resolve-service.js';
import { gapShape } from './shapes.js';

export const dependencyImpactTool = defineTool({
  name: 'dependency_impact',
  title: 'Dependency impact',
  description: 'Upstream and downstream services with owners and alert status.',
  toolset: 'context',
  effect: 'read',
  risk: 'low',
  input: {
    service: serviceField,
    env: z.string().optional().describe('for alerts; default all'),
    direction: z.enum(['upstream', 'downstream', 'both']).optional().meta({ default: 'both' }),
    depth: z.number().int().min(1).max(10).optional().meta({ default: 3 }),
  },
  output: {
    service: z.string(),
    nodes: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        direction: z.enum(['upstream', 'downstream']),
        distance: z.number(),
        owner: z.string().optional(),
        alert_status: z.enum(['firing', 'ok', 'unknown']),
        alerts: z.number(),
      }),
    ),
    truncated: z.boolean(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const svc = resolveService(deps, args.service);
    if (args.env) resolveEnv(deps, args.env);
    const impact = dependencyImpact(deps.catalog, svc.id, {
      direction: args.direction ?? 'both',
      depth: args.depth ?? 3,
    });
    const { alerts, gaps } = await collectAlerts(deps, { env: args.env });
    const firing = new Map<string, number>();
    for (const a of alerts)
      if (a.service && a.silenced_by.length === 0) firing.set(a.service, (firing.get(a.service) ?? 0) + 1);
    const alertsKnown = gaps.length === 0;
    const nodes = impact.nodes.map((n) => {
      const count = firing.get(n.id) ?? firing.get(n.id.replace(/^resource:/, '')) ?? 0;
      return {
        id: n.id,
        kind: n.kind,
        direction: n.direction,
        distance: n.distance,
        owner: n.owner,
        alert_status: count > 0 ? ('firing' as const) : alertsKnown ? ('ok' as const) : ('unknown' as const),
        alerts: count,
      };
    });
    return {
      service: svc.id,
      nodes: nodes.slice(0, 60),
      truncated: impact.truncated || nodes.length > 60,
      gaps,
    };
  },
  render: (o) =>
    `${o.service}: ${o.nodes.length} related node(s)\n` +
    o.nodes
      .map(
        (n) =>
          `${n.direction === 'upstream' ? '↑' : '↓'}${n.distance} ${n.id} (${n.owner ?? 'no owner'}) ${n.alert_status}${n.alerts ? ` ×${n.alerts}` : ''}`,
      )
      .join('\n'),
});
