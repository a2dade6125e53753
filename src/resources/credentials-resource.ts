import { defineResource } from '../contract/define-resource.js';
import { capList } from '../contract/pages.js';
import { collectCredentials } from '../tools/secrets/rotation/inventory.js';

const CAP = 200;

/** day2://credentials: the credential inventory, most urgent first, capped; never a value. */
export const credentialsResource = defineResource({
  uri: 'day2://credentials',
  name: 'credentials',
  title: 'Credentials',
  description:
    'Every secret and TLS certificate per environment with owner, users, last rotated, next due and status (most urgent first; list_credentials pages through all).',
  mimeType: 'application/json',
  async read(ctx) {
    const { rows, gaps } = await collectCredentials(ctx.deps);
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return {
      json: {
        by_status: counts,
        ...capList('credentials', rows, CAP, { tool: 'list_credentials', args: { limit: 100 } }),
        gaps,
      },
    };
  },
});
