import type { Clock } from './clock.js';
import type { Config } from './config/schema.js';
import type { Logger } from './log.js';
import type { Store } from './store/store.js';
import type { Backends } from './providers/backends.js';
import type { Catalog } from './catalog/catalog.js';

/**
 * Everything a tool or resource handler may use, passed in. Handlers never build SDK clients,
 * read process.env or see the MCP server object.
 */
export interface Deps {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  backends: Backends;
  catalog: Catalog;
}
