import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOnLoopback, type LocalService } from './local-service.js';
import { gzipSync } from 'node:zlib';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** The registry's API is under `${url}/v2/`. */
export type RegistryProcess = LocalService;

/** Thrown when the Distribution registry binary is not installed. */
export class RegistryMissingError extends Error {
  constructor(binary: string) {
    super(
      `the Distribution registry is not installed (${binary} not found): run \`apt-get install docker-registry\``,
    );
    this.name = 'RegistryMissingError';
  }
}

/**
 * Starts the real Distribution registry (Debian's docker-registry) on a loopback port with a
 * temporary filesystem storage root, and waits until GET /v2/ answers. Tests and the sandbox use it.
 */
export async function startRegistry(
  opts: { binary?: string; readyTimeoutMs?: number } = {},
): Promise<RegistryProcess> {
  const binary = opts.binary ?? REGISTRY_BINARY;
  if (!existsSync(binary)) throw new RegistryMissingError(binary);
  const dir = await mkdtemp(join(tmpdir(), 'day2-registry-'));
  return startOnLoopback({
    what: 'the registry',
    dir,
    readyPath: '/v2/',
    readyTimeoutMs: opts.readyTimeoutMs ?? 20_000,
    async spawn(port) {
      const config = join(dir, `config-${port}.yml`);
      await writeFile(
        config,
        [
          'version: 0.1',
          'log:',
          '  level: error',
          '  accesslog:',
          '    disabled: true',
          'storage:',
          '  filesystem:',
          `    rootdirectory: ${join(dir, 'data')}`,
          '  delete:',
          '    enabled: true',
          'http:',
          `  addr: 127.0.0.1:${port}`,
          '',
        ].join('\n'),
      );
      return spawn(binary, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    },
  });
}

/**
 * Pushes a small OCI image (a config blob, one layer, a manifest) as `repository:tag` over the
 * Distribution API, the way `docker push` does, and returns the manifest digest. Each tag gets
 * distinct content, so distinct tags have distinct digests.
 */
export async function pushImage(registryUrl: string, repository: string, tag: string): Promise<string> {
  const layer = gzipSync(Buffer.from(`day2 sandbox layer ${repository}:${tag}\n`));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'org.opencontainers.image.version': tag } },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
    }),
  );
  const configDigest = await pushBlob(registryUrl, repository, config);
  const layerDigest = await pushBlob(registryUrl, repository, layer);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length },
      ],
    }),
  );
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (res.status !== 201)
    throw new Error(`push manifest ${repository}:${tag}: HTTP ${res.status} ${await res.text()}`);
  return res.headers.get('docker-content-digest') ?? `sha256:${sha256(manifest)}`;
}

async function pushBlob(registryUrl: string, repository: string, blob: Buffer): Promise<string> {
  const digest = `sha256:${sha256(blob)}`;
  const start = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await start.body?.cancel();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location)
    throw new Error(`start upload to ${repository}: HTTP ${start.status}`);
  const target = new URL(location, registryUrl);
  target.searchParams.set('digest', digest);
  const put = await fetch(target, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: blob,
  });
  if (put.status !== 201)
    throw new Error(`upload blob to ${repository}: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
