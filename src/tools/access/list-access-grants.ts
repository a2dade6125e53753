import { z } from 'zod';
import { collectGrants } from './inventory.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnv } from '../context/resolve-service.js';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
import { grantShape, grantView } from './grant-shape.js';

export const listAccessGrants = defineTool({
  name: 'list_access_grants',
  title: 'List access grants',
  description: 'Active and expiring access grants made by day2, with expiry, grantor and reason.',
  toolset: 'access',
  effect: 'read',
  risk: 'low',
  input: {
    env: z.string().min(1).optional(),
    principal: z.string().min(1).optional(),
    include_revoked: z.boolean().optional(),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    grants: z.array(grantShape),
    counts: z.object({ active: z.number(), expiring: z.number(), expired: z.number(), revoked: z.number() }),
    total: z.number(),
    next_cursor: z.string().optional(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const envs = args.env ? [resolveEnv(deps, args.env)] : Object.keys(deps.config.environments);
    const now = deps.clock.now();
    const { grants, gaps } = await collectGrants(deps, envs);
    const views = grants
      .filter((g) => !args.principal || g.principal === args.principal)
      .map((g) => grantView(g, now));
    const counts = { active: 0, expiring: 0, expired: 0, revoked: 0 };
    for (const v of views) counts[v.status]++;
    const page = pageOf(
      views.filter((v) => args.include_revoked || v.status !== 'revoked'),
      args,
    );
    return { grants: page.items, counts, total: page.total, next_cursor: page.next_cursor, gaps };
  },
  render: (o, args) =>
    answerText({
      head: [
        `${o.counts.active} active, ${o.counts.expiring} expiring within the hour, ${o.counts.expired} expired awaiting the reaper, ${o.counts.revoked} revoked`,
      ],
      rows: o.grants.map(
        (g) =>
          `${g.grant_id} ${g.principal} ${g.role} ${g.kind === 'kubernetes' ? `${g.env}/${g.namespace}` : `${g.env}/${g.database}`} until ${g.expires_at} [${g.status}]`,
      ),
      tail: [
        pageLine('grants', { shown: o.grants.length, ...o }, { tool: 'list_access_grants', args }),
        gapsLine(o.gaps),
      ],
    }),
});
