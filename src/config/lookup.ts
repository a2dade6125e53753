import type { Config } from './schema.js';

/**
 * The member `key` of a record, or undefined: only the record's own members count. A name that
 * comes from a model or a user (an environment, a database, a service) may well be "constructor"
 * or "__proto__", which a plain `record[key]` answers with a member of Object.prototype.
 */
export function ownEntry<V>(record: Readonly<Record<string, V>> | undefined, key: string): V | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The configuration of environment `env`, or undefined when none has that name. */
export function environmentConfig(
  config: Pick<Config, 'environments'>,
  env: string,
): Config['environments'][string] | undefined {
  return ownEntry(config.environments, env);
}
