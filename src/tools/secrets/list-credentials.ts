import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField, limitField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, gapsLine, pageLine } from '../../contract/answer-text.js';
import { resolveEnv, resolveServiceFilter } from '../context/resolve-service.js';
import { gapShape } from '../context/shapes.js';
import { collectCredentials } from './rotation/inventory.js';

export const credentialShape = z.object({
  env: z.string(),
  name: z.string().describe('AWS secret name, or k8s:<namespace>/<name> for a TLS certificate'),
  kind: z.enum(['aws-secret', 'tls-certificate']),
  owner: z.string().optional(),
  used_by: z
    .array(z.string())
    .describe('services that use it: catalog annotations and Kubernetes secretKeyRef/envFrom/volumes'),
  last_rotated: z.string().optional(),
  next_due: z.string().optional().describe('rotation rule or max age; for certificates the expiry'),
  status: z.enum(['ok', 'due_soon', 'overdue', 'rotation_in_progress', 'pending_left_behind']),
  rotation_id: z.string().optional(),
  subject: z.string().optional(),
  expires: z.string().optional(),
});

export const listCredentials = defineTool({
  name: 'list_credentials',
  title: 'List credentials',
  description:
    'Secrets per env with owner, users, last rotation, next due and status; TLS certificates with expiry.',
  toolset: 'secrets',
  effect: 'read',
  risk: 'low',
  input: {
    env: z.string().optional().describe('default all'),
    status: z.enum(['ok', 'due_soon', 'overdue', 'rotation_in_progress', 'pending_left_behind']).optional(),
    service: z.string().optional().describe('credentials this service uses'),
    limit: limitField,
    cursor: cursorField,
  },
  output: {
    credentials: z.array(credentialShape),
    total: z.number(),
    next_cursor: z.string().optional(),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const env = args.env === undefined ? undefined : resolveEnv(ctx.deps, args.env);
    const { rows, gaps } = await collectCredentials(ctx.deps, { env });
    const service =
      args.service === undefined
        ? undefined
        : resolveServiceFilter(ctx.deps, args.service, { env }, (n) =>
            rows.some((r) => r.used_by.includes(n)),
          );
    const filtered = rows.filter(
      (r) => (!args.status || r.status === args.status) && (!service || r.used_by.includes(service)),
    );
    const page = pageOf(filtered, args);
    return { credentials: page.items, total: page.total, next_cursor: page.next_cursor, gaps };
  },
  render: (o, args) =>
    answerText({
      head: [o.total ? `${o.total} credential(s):` : 'No credentials found.'],
      rows: o.credentials.map(
        (c) =>
          `${c.status.toUpperCase()} ${c.env}/${c.name} owner ${c.owner ?? '?'} due ${c.next_due?.slice(0, 10) ?? '?'} used by ${c.used_by.join(', ') || 'nothing known'}`,
      ),
      tail: [
        pageLine('credentials', { shown: o.credentials.length, ...o }, { tool: 'list_credentials', args }),
        gapsLine(o.gaps),
      ],
    }),
});
