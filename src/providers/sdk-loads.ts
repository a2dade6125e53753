/**
 * The backend SDKs, imported once, on first use. The Datadog client alone holds about 120 MB and
 * takes 1.5 s to import on an idle machine (the Kubernetes client 85 MB and 0.6 s): a server that
 * has not yet been asked about a backend pays for neither. A backend's timeout measures the
 * backend, so callers that bound a call in time wait for its SDK first (sdkLoaded), outside the
 * bound.
 */
const IMPORTS: Record<string, () => Promise<unknown>> = {
  datadog: () => import('@datadog/datadog-api-client'),
  kubernetes: () => import('@kubernetes/client-node'),
  'secrets-manager': () => import('@aws-sdk/client-secrets-manager'),
};

const loads = new Map<string, Promise<void>>();
const imported = new Set<string>();

/** Whether the SDK `backend` uses is already imported in this process (true for one without). */
export function sdkImported(backend: string): boolean {
  return !IMPORTS[backend] || imported.has(backend);
}

/**
 * Settles once the SDK `backend` uses is imported; at once for a backend without one. Never
 * rejects: an SDK that fails to import fails the call that uses it, with that call's error.
 */
export function sdkLoaded(backend: string): Promise<void> {
  const load = IMPORTS[backend];
  if (!load) return Promise.resolve();
  let p = loads.get(backend);
  if (!p) {
    p = load().then(
      () => void imported.add(backend),
      () => undefined,
    );
    loads.set(backend, p);
  }
  return p;
}

/**
 * Imports the SDKs of the given backends at once, for callers that want every call warm (tests
 * and benches; the server does not). Never rejects.
 */
export async function warmUpSdks(backends: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(backends)].map((b) => sdkLoaded(b)));
}
