import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciRegistryClient } from '../../src/providers/registry/oci-client.js';
import { newerTags, parseTag } from '../../src/providers/registry/semver.js';
import { parseImageRef } from '../../src/providers/registry/image-ref.js';
import { NotFoundError } from '../../src/providers/errors.js';
import { pushImage, pushReferrer, startTestRegistry, type RegistryProcess } from '../fixtures/registry.js';
import { configSchema } from '../../src/config/schema.js';
import { BackendNotConfiguredError } from '../../src/providers/backends.js';
import { realBackends } from '../../src/providers/real-backends.js';
import { silentLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';

let registry: RegistryProcess;
let digests: Map<string, string>;

beforeAll(async () => {
  ({ registry, digests } = await startTestRegistry({
    'shop/orders': ['6.1.1', '6.1.2', '6.2.0', '7.0.0', '6.3.0-rc.1', 'latest'],
    'library/node': ['20.11.0-alpine', '20.12.0-alpine', '20.12.0', '22.1.0-alpine'],
  }));
}, 60_000);

afterAll(async () => {
  await registry?.close();
});

describe('OciRegistryClient against the real Distribution registry', () => {
  it('lists every pushed tag of a repository, following pagination', async () => {
    const client = new OciRegistryClient(registry.url);
    expect((await client.listTags('shop/orders')).sort()).toEqual([
      '6.1.1',
      '6.1.2',
      '6.2.0',
      '6.3.0-rc.1',
      '7.0.0',
      'latest',
    ]);
  });

  it('caps the number of tags it reads at maxTags', async () => {
    const client = new OciRegistryClient(registry.url, { maxTags: 3 });
    expect(await client.listTags('shop/orders')).toHaveLength(3);
  });

  it('reads manifest digests that match what the push returned, and undefined for a missing tag', async () => {
    const client = new OciRegistryClient(registry.url);
    expect(await client.manifestDigest('shop/orders', '6.2.0')).toBe(digests.get('shop/orders:6.2.0'));
    expect(await client.manifestDigest('shop/orders', '6.2.0')).not.toBe(digests.get('shop/orders:6.1.2'));
    expect(await client.manifestDigest('shop/orders', '9.9.9')).toBeUndefined();
  });

  it('translates an unknown repository into NotFoundError naming it', async () => {
    const client = new OciRegistryClient(registry.url);
    const err = await client.listTags('shop/nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toContain('shop/nope');
    expect((err as Error).message).toContain('NAME_UNKNOWN');
  });

  it('reads a manifest with its annotations, a blob, and the referrers of an image', async () => {
    const client = new OciRegistryClient(registry.url);
    const subject = await pushImage(registry.url, 'shop/orders', '6.1.3', {
      annotations: { 'org.opencontainers.image.revision': 'abc123' },
    });
    const m = (await client.manifest('shop/orders', '6.1.3'))!;
    expect(m).toMatchObject({
      digest: subject,
      annotations: { 'org.opencontainers.image.revision': 'abc123' },
    });
    const config = JSON.parse((await client.blob('shop/orders', m.config!.digest, 1 << 20)).toString()) as {
      config: { Labels: Record<string, string> };
    };
    expect(config.config.Labels['org.opencontainers.image.version']).toBe('6.1.3');
    await expect(client.blob('shop/orders', m.config!.digest, 10)).rejects.toMatchObject({ kind: 'invalid' });
    expect(await client.referrers('shop/orders', subject)).toEqual({ referrers: [], via: 'referrers_tag' });

    const report = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', vulnerabilities: [] }));
    const pushed = await pushReferrer(registry.url, 'shop/orders', subject, {
      artifactType: 'application/vnd.cyclonedx+json',
      mediaType: 'application/vnd.cyclonedx+json',
      content: report,
    });
    // Debian's docker-registry is Distribution 2.8: no Referrers API (GET .../referrers/<digest>
    // answers 404, a PUT with a subject gets no OCI-Subject), so the tag schema carries referrers.
    expect(pushed.via).toBe('referrers_tag');
    const raw = await fetch(`${registry.url}/v2/shop/orders/referrers/${subject}`);
    await raw.body?.cancel();
    expect(raw.status).toBe(404);
    const found = await client.referrers('shop/orders', subject);
    expect(found.via).toBe('referrers_tag');
    expect(found.referrers).toEqual([
      expect.objectContaining({ digest: pushed.digest, artifactType: 'application/vnd.cyclonedx+json' }),
    ]);
    const artifact = (await client.manifest('shop/orders', pushed.digest))!;
    expect(artifact.subject?.digest).toBe(subject);
    expect((await client.blob('shop/orders', artifact.layers[0]!.digest, 1 << 20)).equals(report)).toBe(true);
  });

  it('reports an unreachable registry as unavailable', async () => {
    const client = new OciRegistryClient('http://127.0.0.1:1', { timeoutMs: 2000 });
    await expect(client.listTags('shop/orders')).rejects.toMatchObject({ kind: 'unavailable' });
  });
});

describe('the registry backend', () => {
  it("is each environment's configured registry, one client per registry URL, and not configured elsewhere", async () => {
    const config = configSchema.parse({
      environments: {
        prod: { tier: 'production', registry: { url: registry.url, host: 'registry.acme.test' } },
        staging: { tier: 'staging', registry: { url: registry.url } },
        dev: { tier: 'development' },
      },
    });
    const backends = realBackends({
      config,
      baseDir: '.',
      env: {},
      log: silentLogger,
      redactor: new Redactor(),
    });
    try {
      expect([backends.has('prod', 'registry'), backends.has('dev', 'registry')]).toEqual([true, false]);
      const prod = backends.registry('prod');
      expect(prod.host).toBe('registry.acme.test');
      expect(prod.owns(parseImageRef('registry.acme.test/shop/orders:6.1.1'))).toBe(true);
      expect(prod.owns(parseImageRef('docker.io/shop/orders:6.1.1'))).toBe(false);
      expect(await prod.client.manifestDigest('shop/orders', '6.2.0')).toBe(digests.get('shop/orders:6.2.0'));
      // Environments that share a registry share its client.
      expect(backends.registry('staging').client).toBe(prod.client);
      expect(backends.registry('staging').host).toBe(new URL(registry.url).host);
      expect(() => backends.registry('dev')).toThrow(BackendNotConfiguredError);
    } finally {
      await backends.close();
    }
  });

  it('belongs to its backends: two never share a client', () => {
    const config = configSchema.parse({
      environments: { prod: { tier: 'production', registry: { url: registry.url } } },
    });
    const make = () =>
      realBackends({ config, baseDir: '.', env: {}, log: silentLogger, redactor: new Redactor() });
    expect(make().registry('prod').client).not.toBe(make().registry('prod').client);
  });
});

describe('semver tag selection', () => {
  const tags = ['6.1.1', '6.1.2', '6.2.0', '7.0.0', '6.3.0-rc.1', 'latest', 'v6.2.1', '6.2.0-alpine'];
  it('lists newer releases of the same major, newest first', () => {
    expect(newerTags('6.1.2', tags)!.map((t) => t.tag)).toEqual(['v6.2.1', '6.2.0']);
  });
  it('includes prereleases and other majors only when asked', () => {
    expect(newerTags('6.1.2', tags, { includePrereleases: true })!.map((t) => t.tag)).toEqual([
      '6.3.0-rc.1',
      'v6.2.1',
      '6.2.0',
    ]);
    expect(newerTags('6.1.2', tags, { allowMajor: true })!.map((t) => t.tag)).toEqual([
      '7.0.0',
      'v6.2.1',
      '6.2.0',
    ]);
  });
  it('keeps variants apart and orders a release after its prereleases', () => {
    expect(newerTags('6.1.0-alpine', tags)!.map((t) => t.tag)).toEqual(['6.2.0-alpine']);
    expect(newerTags('6.3.0-rc.1', ['6.3.0', '6.3.0-rc.2', '6.2.9'])!.map((t) => t.tag)).toEqual(['6.3.0']);
    expect(newerTags('latest', tags)).toBeUndefined();
    expect(parseTag('1.2.3-rc.10')!.prerelease).toEqual(['rc', '10']);
  });
  it('parses image references with host, tag and digest', () => {
    expect(parseImageRef('registry.acme.test/shop/orders:6.1.2@sha256:abc')).toEqual({
      host: 'registry.acme.test',
      repository: 'shop/orders',
      tag: '6.1.2',
      digest: 'sha256:abc',
    });
    expect(parseImageRef('127.0.0.1:5000/x/y')).toEqual({
      host: '127.0.0.1:5000',
      repository: 'x/y',
      tag: undefined,
      digest: undefined,
    });
    expect(parseImageRef('node:20-alpine')).toEqual({
      host: undefined,
      repository: 'node',
      tag: '20-alpine',
      digest: undefined,
    });
  });
});
