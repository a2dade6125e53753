import { environmentConfig } from '../../config/lookup.js';
import type { Config } from '../../config/schema.js';
import type { ImageRef } from './image-ref.js';
import { OciRegistryClient, type RegistryClient } from './oci-client.js';

export { OciRegistryClient, MANIFEST_ACCEPT } from './oci-client.js';
export type {
  OciDescriptor,
  OciManifest,
  Referrers,
  RegistryClient,
  RegistryClientOptions,
} from './oci-client.js';
export { parseImageRef, formatImageRef } from './image-ref.js';
export type { ImageRef } from './image-ref.js';
export { parseTag, compareVersions, newerTags } from './semver.js';
export type { TagVersion, NewerTagOptions } from './semver.js';

/** The registry an environment's images live in: its client and the host its image refs name. */
export interface EnvRegistry {
  client: RegistryClient;
  /** Host in image references (config `registry.host`, else the URL's host). */
  host: string;
  /** Whether an image reference points at this registry. */
  owns(ref: ImageRef): boolean;
}

/**
 * The container registries of a configuration's environments (`environments.<env>.registry`):
 * one client per registry URL, built on first use, so that environments sharing a registry share
 * its client. Owned by a Backends (see backendsFrom); image refs naming `registry.host` map to
 * `registry.url`.
 */
export class Registries {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(
    private readonly config: Config,
    private readonly timeoutMs: number = config.backends.timeout,
  ) {}

  /** `env`'s registry, or undefined when the environment configures none. */
  of(env: string): EnvRegistry | undefined {
    const reg = environmentConfig(this.config, env)?.registry;
    if (!reg) return undefined;
    let client = this.clients.get(reg.url);
    if (!client) {
      client = new OciRegistryClient(reg.url, { timeoutMs: this.timeoutMs });
      this.clients.set(reg.url, client);
    }
    const host = reg.host ?? new URL(reg.url).host;
    return { client, host, owns: (ref) => ref.host === host };
  }
}
