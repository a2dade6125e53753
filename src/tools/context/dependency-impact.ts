import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { answerText, gapsLine } from '../../contract/answer-text.js';
import { serviceField } from '../../contract/fields.js';
import { alertStates, collectAlerts } from './alerts.js';
import { dependencyImpact } from '../../catalog/graph.js';
import { resolveEnv } from './resolve-service.js';
import { gapShape, nodeStateShape } from './shapes.js';

/** Nodes an answer lists, nearest first. */
const MAX_NODES = 60;

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
      nodes: nodes.slice(0, MAX_NODES),
      truncated: impact.truncated || nodes.length > MAX_NODES,
      gaps,
    };
  },
  render: (o, args) =>
    answerText({
      head: [`${o.service}: ${o.nodes.length} related node(s)`],
      rows: o.nodes.map(
        (n) =>
          `${n.direction === 'upstream' ? '↑' : '↓'}${n.distance} ${n.id} (${n.owner ?? 'no owner'}${n.tier ? `, ${n.tier}` : ''}) ${n.alert_status}${n.alerts ? ` ×${n.alerts}` : ''}`,
      ),
      tail: [
        o.truncated &&
          `More related nodes were left out (${MAX_NODES} at most, nearest first); narrow with direction or a smaller depth${args.depth ? ` than ${args.depth}` : ''}.`,
        gapsLine(o.gaps),
      ],
    }),
});
