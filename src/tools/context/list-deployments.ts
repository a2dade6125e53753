import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
import { collectDeployments, versionSkew } from './deployments.js';
import { resolveEnv, resolveServiceFilter } from './resolve-service.js';
import { gapShape } from './shapes.js';

const row = z.object({
  service: z.string(),
  env: z.string(),
  namespace: z.string(),
  deployment: z.string(),
  version: z.string(),
  digest: z.string().optional(),
  ready: z.number(),
  desired: z.number(),
  revision: z.number().optional(),
  status: z.string(),
});

export const listDeployments = defineTool({
  name: 'list_deployments',
  title: 'List deployments',
  description: 'Version and readiness per service and env, and skew between envs.',
  toolset: 'context',
  effect: 'read',
  risk: 'low',
  input: {
    env: z.string().optional(),
    service: z.string().optional(),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    deployments: z.array(row),
    total: z.number(),
    next_cursor: z.string().optional(),
    skew: z.array(z.object({ service: z.string(), versions: z.record(z.string(), z.string()) })),
    skew_total: z.number().describe('services whose versions differ between envs; skew shows the first 20'),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    // Skew needs every environment, even when the list shows one.
    const env = args.env === undefined ? undefined : resolveEnv(ctx.deps, args.env);
    const { rows, gaps } = await collectDeployments(ctx.deps);
    const service =
      args.service === undefined
        ? undefined
        : resolveServiceFilter(ctx.deps, args.service, { env }, (n) => rows.some((r) => r.service === n));
    const scoped = rows.filter((r) => (!service || r.service === service) && (!env || r.env === env));
    const page = pageOf(scoped, args);
    const skew = versionSkew(rows.filter((r) => !service || r.service === service));
    return {
      deployments: page.items.map(({ image: _image, last_rollout: _lr, ...r }) => r),
      total: page.total,
      next_cursor: page.next_cursor,
      skew: skew.slice(0, SKEW_SHOWN),
      skew_total: skew.length,
      gaps,
    };
  },
  render: (o, args) =>
    answerText({
      head: [`${o.total} deployment(s):`],
      rows: o.deployments.map(
        (d) => `${d.env}/${d.service} ${d.version} ${d.ready}/${d.desired} ${d.status}`,
      ),
      tail: [
        pageLine('deployments', { shown: o.deployments.length, ...o }, { tool: 'list_deployments', args }),
        o.skew.length &&
          `Skew${o.skew_total > o.skew.length ? ` (${o.skew.length} of ${o.skew_total} services)` : ''}: ${o.skew
            .map(
              (s) =>
                `${s.service} ${Object.entries(s.versions)
                  .map(([e, v]) => `${e}=${v}`)
                  .join(' ')}`,
            )
            .join('; ')}`,
        gapsLine(o.gaps),
      ],
    }),
});

const SKEW_SHOWN = 20;
