import type { Clock } from '../core/clock.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import type { Redactor } from '../core/redact.js';
import type { Store } from '../store/store.js';
import type { Backends } from '../providers/backends.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Notifier } from '../providers/notify/notifier.js';

/**
 * Everything a tool or resource handler may use, passed in. Handlers never build SDK clients,
 * read process.env or see the MCP server object.
 */
export interface Deps {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  /** The runtime's known secrets: everything that leaves day2 is masked with it. */
  redactor: Redactor;
  backends: Backends;
  catalog: Catalog;
  /**
   * Where messages for people go (approval requests, rotation notices): the runtime's notifier.
   * Optional so that hand-built Deps in fixtures stay valid; a tool that must notify fails closed without it.
   */
  notifier?: Notifier;
}
