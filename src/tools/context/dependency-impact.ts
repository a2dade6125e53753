import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { serviceField } from '../../contract/fields.js';
import { alertStates, collectAlerts } from './alerts.js';
import { dependencyImpact } from '../../catalog/graph.js';
import { resolveEnv } from './resolve-service.js';
import { gapShape, nodeStateShape } from './shapes.js';

export const dependencyImpactTool = defineTool({
  name: 'dependency_impact',
  title: 'Dependency impact',
  description: 'Up- and downstream of a service or resource: owners, tiers, alerts.',
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
    service: z.string().describe('catalog id: a service, or resource:<name>'),
    nodes: z.array(
      nodeStateShape.extend({
        direction: z.enum(['upstream', 'downstream']),
        distance: z.number(),
      }),
    ),
    truncated: z.boolean(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const env = args.env === undefined ? undefined : resolveEnv(deps, args.env);
    const root = deps.catalog.resolver.entity(args.service, { env });
    const impact = dependencyImpact(deps.catalog, root.id, {
      direction: args.direction ?? 'both',
      depth: args.depth ?? 3,
    });
    const { alerts, gaps } = await collectAlerts(deps, { env });
    const stateOf = alertStates(alerts, gaps);
    const nodes = impact.nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      direction: n.direction,
      distance: n.distance,
      owner: n.owner,
      tier: n.tier,
      ...stateOf(n.id),
    }));
    return {
      service: root.id,
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
          `${n.direction === 'upstream' ? '↑' : '↓'}${n.distance} ${n.id} (${n.owner ?? 'no owner'}${n.tier ? `, ${n.tier}` : ''}) ${n.alert_status}${n.alerts ? ` ×${n.alerts}` : ''}`,
      )
      .join('\n'),
});
