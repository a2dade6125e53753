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
export async function pushImage(
  registryUrl: string,
  repository: string,
  tag: string,
  opts: {
    /** Manifest annotations (org.opencontainers.image.created, .revision, .source, ...). */
    annotations?: Record<string, string>;
    /** Config labels beside org.opencontainers.image.version (vendor security labels, say). */
    labels?: Record<string, string>;
  } = {},
): Promise<string> {
  const layer = gzipSync(Buffer.from(`day2 sandbox layer ${repository}:${tag}\n`));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { 'org.opencontainers.image.version': tag, ...opts.labels } },
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
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    }),
  );
  return (await putManifest(registryUrl, repository, tag, OCI_MANIFEST, manifest)).digest;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** The OCI image spec's empty descriptor, the config of an artifact that has none. */
const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', content: Buffer.from('{}') };

/**
 * Attaches a document (a vulnerability report, an SBOM) to the image `subjectDigest` as an OCI
 * referrer, the way oras attach does: an artifact manifest with `artifactType` and `subject`. A
 * registry that serves the Referrers API says so with an `OCI-Subject` header; for one that does
 * not (Distribution 2.8), the pusher maintains the referrers tag schema the OCI distribution spec
 * defines: an index tagged `sha256-<hex>` listing the referrers. Returns the artifact's digest
 * and which of the two the registry needed.
 */
export async function pushReferrer(
  registryUrl: string,
  repository: string,
  subjectDigest: string,
  doc: { artifactType: string; mediaType: string; content: Buffer; annotations?: Record<string, string> },
): Promise<{ digest: string; via: 'referrers_api' | 'referrers_tag' }> {
  const head = await fetch(`${registryUrl}/v2/${repository}/manifests/${subjectDigest}`, {
    method: 'HEAD',
    headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` },
  });
  if (head.status !== 200) throw new Error(`subject ${repository}@${subjectDigest}: HTTP ${head.status}`);
  const subject = {
    mediaType: head.headers.get('content-type') ?? OCI_MANIFEST,
    digest: subjectDigest,
    size: Number(head.headers.get('content-length') ?? 0),
  };
  const emptyDigest = await pushBlob(registryUrl, repository, EMPTY.content);
  const docDigest = await pushBlob(registryUrl, repository, doc.content);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: doc.artifactType,
      config: { mediaType: EMPTY.mediaType, digest: emptyDigest, size: EMPTY.content.length },
      layers: [{ mediaType: doc.mediaType, digest: docDigest, size: doc.content.length }],
      subject,
      ...(doc.annotations ? { annotations: doc.annotations } : {}),
    }),
  );
  const digest = `sha256:${sha256(manifest)}`;
  const put = await putManifest(registryUrl, repository, digest, OCI_MANIFEST, manifest);
  if (put.subject === subjectDigest) return { digest, via: 'referrers_api' };
  // No Referrers API: add the artifact to the index tagged <alg>-<hex> (created when absent).
  const tag = subjectDigest.replace(':', '-');
  const got = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    headers: { Accept: OCI_INDEX },
  });
  const index = (
    got.status === 200
      ? await got.json()
      : (await got.body?.cancel(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })
  ) as { manifests: Record<string, unknown>[] };
  index.manifests = [
    ...index.manifests.filter((m) => m.digest !== digest),
    {
      mediaType: OCI_MANIFEST,
      digest,
      size: manifest.length,
      artifactType: doc.artifactType,
      ...(doc.annotations ? { annotations: doc.annotations } : {}),
    },
  ];
  await putManifest(registryUrl, repository, tag, OCI_INDEX, Buffer.from(JSON.stringify(index)));
  return { digest, via: 'referrers_tag' };
}

async function putManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  mediaType: string,
  body: Buffer,
): Promise<{ digest: string; subject?: string }> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType },
    body,
  });
  if (res.status !== 201)
    throw new Error(`push manifest ${repository}:${reference}: HTTP ${res.status} ${await res.text()}`);
  await res.body?.cancel();
  return {
    digest: res.headers.get('docker-content-digest') ?? `sha256:${sha256(body)}`,
    subject: res.headers.get('oci-subject') ?? undefined,
  };
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
