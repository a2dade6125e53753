import { environmentConfig, ownEntry } from '../../config/lookup.js';
import type { Deps } from '../../contract/deps.js';
import type { Target } from '../../contract/define-tool.js';
import { ToolError } from '../../contract/define-tool.js';
import type { DbRef } from '../../providers/postgres/postgres-provider.js';

/** The database a call concerns, with its configuration. */
export interface ResolvedDatabase extends DbRef {
  service?: string;
  /** Folder of migration files, when configured. */
  migrations?: string;
  target: Target;
}

/**
 * Resolves a tool's `{env, database?, service?}` to one configured database. `database` names a key
 * of `environments.<env>.databases`; without it, a service resolves to the database of the same
 * name, and an environment with a single database needs neither. The catalog (service → database
 * annotation) plugs in here.
 */
export function resolveDatabase(
  deps: Pick<Deps, 'config'> & Partial<Pick<Deps, 'catalog'>>,
  args: { env: string; database?: string; service?: string },
): ResolvedDatabase {
  const envConfig = environmentConfig(deps.config, args.env);
  if (!envConfig) {
    const known = Object.keys(deps.config.environments).join(', ') || 'none';
    throw new ToolError(`unknown environment "${args.env}" (configured: ${known})`, 'unknown_env', 'env');
  }
  const names = Object.keys(envConfig.databases);
  let name = args.database;
  if (name === undefined && args.service !== undefined && ownEntry(envConfig.databases, args.service))
    name = args.service;
  if (name === undefined && args.service !== undefined) {
    // The catalog links a service to its database (day2.dev/database or a database Resource).
    name = deps.catalog
      ?.service(args.service)
      ?.databases.find((d) => ownEntry(envConfig.databases, d) !== undefined);
  }
  if (name === undefined && names.length === 1) name = names[0];
  if (name === undefined) {
    throw new ToolError(
      `say which database: environment "${args.env}" has ${names.length === 0 ? 'no databases configured' : `databases ${names.join(', ')}`}`,
      'unknown_database',
      'database',
    );
  }
  const db = ownEntry(envConfig.databases, name);
  if (!db) {
    throw new ToolError(
      `environment "${args.env}" has no database "${name}" (configured: ${names.join(', ') || 'none'})`,
      'unknown_database',
      'database',
    );
  }
  return {
    env: args.env,
    database: name,
    service: args.service,
    migrations: db.migrations,
    target: { kind: 'database', name, ...(args.service ? { service: args.service } : {}) },
  };
}
