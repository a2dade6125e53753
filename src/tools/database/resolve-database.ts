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
 * of `environments.<env>.databases`; without it, `service` — any name the catalog's resolver
 * knows, a service or a database resource, or a database key itself — gives the database, and an
 * environment with a single database needs neither. An unknown service is an error, never a guess.
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
  let service = args.service;
  if (args.service !== undefined) {
    // The catalog links a service to its database (day2.dev/database or a database Resource), and
    // a database Resource to its key; a configured key is a name of its database too.
    const node = deps.catalog?.resolver.findEntity(args.service, args.env);
    const configured = (d: string | undefined) =>
      d !== undefined && ownEntry(envConfig.databases, d) !== undefined;
    if (node?.kind === 'component') {
      service = node.id;
      name ??= node.databases.find(configured);
    } else if (node?.kind === 'resource') {
      service = undefined;
      name ??= configured(node.database) ? node.database : undefined;
    } else if (configured(args.service)) name ??= args.service;
    else if (deps.catalog) throw deps.catalog.resolver.refuse(args.service, 'service', { env: args.env });
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
    service,
    migrations: db.migrations,
    target: { kind: 'database', name, ...(service ? { service } : {}) },
  };
}
