import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
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
    gaps: z.array(gapShape).describe('the first 10'),
    gaps_total: z.number(),
  },
  async run(args, ctx) {
    const scope = await scanScope(ctx.deps, args);
    const count = (s: string) => scope.objects.filter((o) => o.status === s).length;
    const listed = scope.objects.filter((o) => args.include_in_sync || o.status !== 'in_sync');
    const page = pageOf(listed, args);
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
      gaps_total: scope.gaps.length,
    };
  },
  render: (o, args) =>
    answerText({
      head: [
        `${o.env}: ${o.counts.compared} objects compared, ${o.counts.drifted} drifted${o.counts.expected ? ` (${o.counts.expected} expected: held versions)` : ''}, ${o.counts.missing} missing, ${o.counts.in_sync} in sync`,
      ],
      rows: o.objects.map(
        (x) =>
          `${x.object} ${x.status}${x.expected ? ` (${x.expected})` : ''}${
            x.changes.length
              ? `: ${x.changes
                  .slice(0, 3)
                  .map(
                    (c) => `${c.op} ${c.path}${c.op === 'changed' ? ` (${c.desired} → live ${c.live})` : ''}`,
                  )
                  .join(
                    '; ',
                  )}${x.changes_total > 3 ? ` …+${x.changes_total - 3} more change(s) left out here` : ''}`
              : ''
          }`,
      ),
      tail: [
        pageLine('objects', { shown: o.objects.length, ...o }, { tool: 'detect_drift', args }),
        gapsLine(o.gaps),
        o.gaps_total > o.gaps.length &&
          `(${o.gaps_total - o.gaps.length} more object(s) not read, left out here)`,
      ],
    }),
});
