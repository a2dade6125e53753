import { environmentConfig } from '../../config/lookup.js';
import type { Config } from '../../config/schema.js';
import type { ImageRef } from './image-ref.js';
import { OciRegistryClient, type RegistryClient } from './oci-client.js';

export { OciRegistryClient, MANIFEST_ACCEPT } from './oci-client.js';
export type { RegistryClient, RegistryClientOptions } from './oci-client.js';
export { parseImageRef, formatImageRef } from './image-ref.js';
export type { ImageRef } from './image-ref.js';
export { parseTag, compareVersions, newerTags } from './semver.js';
export type { TagVersion, NewerTagOptions } from './semver.js';

const clients = new WeakMap<Config, Map<string, RegistryClient>>();

/** The registry an environment's images live in: its client and the host its image refs name. */
export interface EnvRegistry {
  client: RegistryClient;
  /** Host in image references (config `registry.host`, else the URL's host). */
  host: string;
  /** Whether an image reference points at this registry. */
  owns(ref: ImageRef): boolean;
}

/**
 * The configured registry of an environment (`environments.<env>.registry`), or undefined when none
 * is configured. Clients are built once per config and URL; image refs naming `registry.host`
 * map to `registry.url`.
 */
export function registryFor(config: Config, env: string, timeoutMs?: number): EnvRegistry | undefined {
  const reg = environmentConfig(config, env)?.registry;
  if (!reg) return undefined;
  let byUrl = clients.get(config);
  if (!byUrl) clients.set(config, (byUrl = new Map<string, RegistryClient>()));
  let client = byUrl.get(reg.url);
  if (!client)
    byUrl.set(
      reg.url,
      (client = new OciRegistryClient(reg.url, { timeoutMs: timeoutMs ?? config.backends.timeout })),
    );
  const host = reg.host ?? new URL(reg.url).host;
  return { client, host, owns: (ref) => ref.host === host };
}
