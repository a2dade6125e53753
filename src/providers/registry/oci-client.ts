import { createHash } from 'node:crypto';
import type { BackendError } from '../errors.js';
import {
  BackendUnavailableError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  retryAfterMs,
  ThrottledError,
} from '../errors.js';

/** The manifest media types day2 accepts, images and multi-platform indexes, OCI and Docker. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryClientOptions {
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Most tags read per repository (default 10,000), over the paginated tags list. */
  maxTags?: number;
  /** Sent as `Authorization` when set (a bearer or basic credential from the environment). */
  authorization?: string;
}

/** An OCI content descriptor, as manifests and indexes list them. */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

/** A manifest as read: an image manifest, an index, or an artifact (artifactType / subject). */
export interface OciManifest {
  digest: string;
  mediaType: string;
  artifactType?: string;
  annotations: Record<string, string>;
  config?: OciDescriptor;
  layers: OciDescriptor[];
  /** An index's manifests. */
  manifests: OciDescriptor[];
  subject?: OciDescriptor;
}

/**
 * The artifacts that refer to a manifest (their `subject`), and how they were found: the Referrers
 * API (`GET /v2/<name>/referrers/<digest>`), or, where the registry does not serve it, the
 * referrers tag schema (an index tagged `sha256-<hex>`) the OCI distribution spec keeps for them.
 */
export interface Referrers {
  referrers: OciDescriptor[];
  via: 'referrers_api' | 'referrers_tag';
}

/** Read access to a container registry over the OCI Distribution API. */
export interface RegistryClient {
  readonly url: string;
  /** Every tag of a repository (GET /v2/<name>/tags/list, following Link pagination). */
  listTags(repository: string): Promise<string[]>;
  /** The manifest digest a tag points at (HEAD, else GET and hash), or undefined if there is no such tag. */
  manifestDigest(repository: string, reference: string): Promise<string | undefined>;
  /** The manifest a tag or digest names (annotations, config, layers, subject), or undefined. */
  manifest(repository: string, reference: string): Promise<OciManifest | undefined>;
  /** A blob's bytes (a config, a report), refused past `maxBytes`. */
  blob(repository: string, digest: string, maxBytes: number): Promise<Buffer>;
  /** The artifacts whose subject is `digest`, by the Referrers API or its tag-schema fallback. */
  referrers(repository: string, digest: string): Promise<Referrers>;
}

/** Accept for a referrers list or a referrers-tag index. */
const INDEX = 'application/vnd.oci.image.index.v1+json';

/** RegistryClient over fetch; errors become BackendError subclasses naming the repository. */
export class OciRegistryClient implements RegistryClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly maxTags: number;

  constructor(
    url: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.url = url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxTags = opts.maxTags ?? 10_000;
  }

  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    while (next && tags.length < this.maxTags) {
      const res = await this.request('GET', next, `list tags of ${repository}`, {
        Accept: 'application/json',
      });
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      next = nextLink(res.headers.get('link'));
    }
    return tags.slice(0, this.maxTags);
  }

  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const path = `/v2/${repository}/manifests/${reference}`;
    const what = `read manifest ${repository}:${reference}`;
    try {
      const head = await this.request('HEAD', path, what, { Accept: MANIFEST_ACCEPT });
      const digest = head.headers.get('docker-content-digest');
      if (digest) return digest;
      const res = await this.request('GET', path, what, { Accept: MANIFEST_ACCEPT });
      const body = Buffer.from(await res.arrayBuffer());
      return (
        res.headers.get('docker-content-digest') ??
        `sha256:${createHash('sha256').update(body).digest('hex')}`
      );
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async manifest(repository: string, reference: string): Promise<OciManifest | undefined> {
    let res: Response;
    try {
      res = await this.request(
        'GET',
        `/v2/${repository}/manifests/${reference}`,
        `read manifest ${repository}:${reference}`,
        {
          Accept: MANIFEST_ACCEPT,
        },
      );
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    const body = parseJson(bytes) as Partial<{
      mediaType: string;
      artifactType: string;
      annotations: Record<string, string>;
      config: OciDescriptor;
      layers: OciDescriptor[];
      manifests: OciDescriptor[];
      subject: OciDescriptor;
    }>;
    return {
      digest:
        res.headers.get('docker-content-digest') ??
        `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
      mediaType: body.mediaType ?? res.headers.get('content-type') ?? '',
      artifactType: body.artifactType,
      annotations: body.annotations ?? {},
      config: body.config,
      layers: body.layers ?? [],
      manifests: body.manifests ?? [],
      subject: body.subject,
    };
  }

  async blob(repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    const what = `read blob ${digest.slice(0, 19)} of ${repository}`;
    const res = await this.request('GET', `/v2/${repository}/blobs/${digest}`, what, {});
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > maxBytes) {
      await res.body?.cancel();
      throw new InvalidError('registry', `${what}: ${length} bytes, more than the ${maxBytes} read`);
    }
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > maxBytes)
      throw new InvalidError('registry', `${what}: more than the ${maxBytes} bytes read`);
    return bytes;
  }

  async referrers(repository: string, digest: string): Promise<Referrers> {
    const what = `list referrers of ${repository}@${digest.slice(0, 19)}`;
    try {
      const out: OciDescriptor[] = [];
      let next: string | undefined = `/v2/${repository}/referrers/${digest}`;
      while (next && out.length < 1000) {
        const res = await this.request('GET', next, what, { Accept: INDEX });
        const body = parseJson(Buffer.from(await res.arrayBuffer())) as { manifests?: OciDescriptor[] };
        out.push(...(body.manifests ?? []));
        next = nextLink(res.headers.get('link'));
      }
      return { referrers: out, via: 'referrers_api' };
    } catch (err) {
      // The spec: a registry answering 404 here does not serve the Referrers API; the client falls
      // back to the index tagged <alg>-<hex>.
      if (!(err instanceof NotFoundError)) throw err;
    }
    const tag = digest.replace(':', '-');
    const index = await this.manifest(repository, tag);
    return { referrers: index?.manifests ?? [], via: 'referrers_tag' };
  }

  private async request(
    method: string,
    path: string,
    what: string,
    headers: Record<string, string>,
  ): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), {
        method,
        headers: {
          ...headers,
          ...(this.opts.authorization ? { Authorization: this.opts.authorization } : {}),
        },
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'follow',
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new BackendUnavailableError(
        'registry',
        timedOut
          ? `${what}: the registry did not answer within ${this.timeoutMs} ms`
          : `${what}: cannot reach the registry at ${this.url}`,
        { cause: err },
      );
    }
    if (res.ok) return res;
    throw await translate(res, what);
  }
}

/** Maps a registry error answer (status + OCI error body) to a BackendError. */
async function translate(res: Response, what: string): Promise<BackendError> {
  let code = '';
  let message = '';
  if (res.headers.get('content-type')?.includes('json')) {
    try {
      const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
      code = body.errors?.[0]?.code ?? '';
      message = (body.errors?.[0]?.message ?? '').slice(0, 200);
    } catch {
      // A non-JSON body: the status says enough.
    }
  } else await res.body?.cancel();
  const detail = `${what}: ${code || `HTTP ${res.status}`}${message ? ` (${message})` : ''}`;
  const opts = { status: res.status };
  if (res.status === 404) return new NotFoundError('registry', detail, opts);
  if (res.status === 401 || res.status === 403)
    return new ForbiddenError('registry', `${detail}; check the registry credentials`, opts);
  if (res.status === 429)
    return new ThrottledError('registry', detail, {
      ...opts,
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
    });
  if (res.status >= 500) return new BackendUnavailableError('registry', detail, opts);
  return new InvalidError('registry', detail, opts);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return {};
  }
}

/** The target of an RFC 5988 `Link: <...>; rel="next"` header, as a path. */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  return m?.[1];
}
