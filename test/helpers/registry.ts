import { pushImage, startRegistry, type RegistryProcess } from '../../src/sandbox/registry-process.js';

export type { RegistryProcess };
export { pushImage };

/**
 * Starts the real Distribution registry for a test file (free loopback port, temporary storage)
 * and pushes `images` (repository → tags). Returns the process and the digest of every pushed tag.
 */
export async function startTestRegistry(
  images: Record<string, string[]> = {},
): Promise<{ registry: RegistryProcess; digests: Map<string, string> }> {
  const registry = await startRegistry();
  const digests = new Map<string, string>();
  try {
    for (const [repo, tags] of Object.entries(images))
      for (const tag of tags) digests.set(`${repo}:${tag}`, await pushImage(registry.url, repo, tag));
  } catch (err) {
    await registry.close();
    throw err;
  }
  return { registry, digests };
}
