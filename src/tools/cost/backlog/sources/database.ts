import { environmentConfig } from '../../../../config/lookup.js';
import { collectHealth } from '../../../database/health-checks.js';
import { gapReason, type Gap } from '../../../context/gather.js';
import { isoDate, ownerOfService, type BacklogItem, type BacklogRisk, type BacklogSource } from '../item.js';

const RISK: Record<string, BacklogRisk | undefined> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
};
const DAYS: Record<BacklogRisk, number> = { critical: 1, high: 7, medium: 30, low: 90 };

/** db_health findings of every configured database (info-level findings left out). */
export const databaseSource: BacklogSource = {
  name: 'database',
  category: 'database',
  async collect({ deps, envs, now }) {
    const items: BacklogItem[] = [];
    const gaps: Gap[] = [];
    const targets = envs.flatMap((env) =>
      Object.keys(environmentConfig(deps.config, env)?.databases ?? {}).map((database) => ({
        env,
        database,
      })),
    );
    await Promise.all(
      targets.map(async (ref) => {
        try {
          const { findings } = await deps.backends.postgres.readOnly(
            ref,
            (c) => collectHealth(c, { idleInTransactionSeconds: 60, unusedIndexMinBytes: 1024 * 1024 }),
            {
              statementTimeoutMs: 15_000,
              lockTimeoutMs: 2_000,
            },
          );
          const service = deps.catalog.services().find((s) => s.databases.includes(ref.database))?.id;
          for (const f of findings) {
            const risk = RISK[f.severity];
            if (!risk) continue;
            const reindex = f.check === 'invalid_index' || f.check === 'index_bloat';
            items.push({
              id: `database:${ref.env}:${ref.database}:${f.check}:${f.object}`,
              category: 'database',
              title: `${ref.database}: ${f.summary}`.slice(0, 200),
              env: ref.env,
              service,
              owner: ownerOfService(deps, service),
              due: isoDate(new Date(now.getTime() + DAYS[risk] * 86_400_000)),
              risk,
              detail: `${f.check} on ${f.object}`,
              ...(reindex
                ? {
                    fix: {
                      tool: 'reindex',
                      arguments: { env: ref.env, database: ref.database, index: f.object },
                    },
                  }
                : {
                    action: `see db_health {"env":"${ref.env}","database":"${ref.database}"} for the evidence`,
                  }),
            });
          }
        } catch (err) {
          gaps.push({ backend: 'postgres', env: ref.env, reason: `${ref.database}: ${gapReason(err)}` });
        }
      }),
    );
    return { items, gaps };
  },
};
