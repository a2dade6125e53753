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

/** Read access to a container registry over the OCI Distribution API. */
export interface RegistryClient {
  readonly url: string;
  /** Every tag of a repository (GET /v2/<name>/tags/list, following Link pagination). */
  listTags(repository: string): Promise<string[]>;
  /** The manifest digest a tag points at (HEAD, else GET and hash), or undefined if there is no such tag. */
  manifestDigest(repository: string, reference: string): Promise<string | undefined>;
}

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

/** The target of an RFC 5988 `Link: <...>; rel="next"` header, as a path. */
function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header);
  return m?.[1];
}
