/** An image reference split into its parts: `host/repository:tag@digest`. */
export interface ImageRef {
  /** Registry host (with port), or undefined for Docker Hub short names. */
  host?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** Parses `registry.acme.test/shop/orders:6.1.2@sha256:...`, `node:20-alpine`, `postgres`. */
export function parseImageRef(image: string): ImageRef {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  let rest = at >= 0 ? image.slice(0, at) : image;
  let host: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      host = first;
      rest = rest.slice(slash + 1);
    }
  }
  const colon = rest.lastIndexOf(':');
  const tag = colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : undefined;
  const repository = tag !== undefined ? rest.slice(0, colon) : rest;
  return { host, repository, tag, digest };
}

/** Builds the reference text back: host/repository[:tag][@digest]. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.host ? `${ref.host}/` : ''}${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
