import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField, paginate } from '../../contract/fields.js';
import { gapShape } from '../context/shapes.js';
import { driftObjectShape, driftScopeFields, driftView, heldDrift, scanScope } from './drift-scope.js';
import { activeHolds } from './holds.js';

export const detectDrift = defineTool({
  name: 'detect_drift',
  title: 'Detect configuration drift',
  description:
    'Compare desired manifests with live objects field by field: added, removed and changed paths.',
  toolset: 'deploys',
  effect: 'read',
  risk: 'low',
  input: {
    ...driftScopeFields,
    include_in_sync: z.boolean().optional(),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    env: z.string(),
    counts: z.object({
      compared: z.number(),
      in_sync: z.number(),
      drifted: z.number(),
      missing: z.number(),
      expected: z.number().describe('drifted objects a hold explains'),
    }),
    objects: z.array(driftObjectShape),
    total: z.number(),
    next_cursor: z.string().optional(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const scope = await scanScope(ctx.deps, args);
    const count = (s: string) => scope.objects.filter((o) => o.status === s).length;
    const listed = scope.objects.filter((o) => args.include_in_sync || o.status !== 'in_sync');
    const page = paginate(listed, args.limit, args.cursor);
    const holds = await activeHolds(ctx.deps, { env: scope.env });
    const expected = scope.objects.filter((o) => o.status === 'drifted' && heldDrift(o, holds)).length;
    return {
      env: scope.env,
      counts: {
        compared: scope.objects.length,
        in_sync: count('in_sync'),
        drifted: count('drifted'),
        missing: count('missing'),
        expected,
      },
      objects: page.items.map((o) => driftView(o, 20, heldDrift(o, holds))),
      total: page.total,
      next_cursor: page.next_cursor,
      gaps: scope.gaps.slice(0, 10),
    };
  },
  render: (o) =>
    [
      `${o.env}: ${o.counts.compared} objects compared, ${o.counts.drifted} drifted${o.counts.expected ? ` (${o.counts.expected} expected: held versions)` : ''}, ${o.counts.missing} missing, ${o.counts.in_sync} in sync`,
      ...o.objects.map(
        (x) =>
          `${x.object} ${x.status}${x.expected ? ` (${x.expected})` : ''}${
            x.changes.length
              ? `: ${x.changes
                  .slice(0, 3)
                  .map(
                    (c) => `${c.op} ${c.path}${c.op === 'changed' ? ` (${c.desired} → live ${c.live})` : ''}`,
                  )
                  .join('; ')}${x.changes_total > 3 ? ` …+${x.changes_total - 3}` : ''}`
              : ''
          }`,
      ),
      o.next_cursor ? `(${o.total} in all; pass next_cursor for more)` : '',
      o.gaps.length ? `Not read: ${o.gaps.map((g) => g.reason).join('; ')}` : '',
    ]
      .filter(Boolean)
      .join('\n'),
});
