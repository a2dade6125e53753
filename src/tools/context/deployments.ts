import type { Deps } from '../../contract/deps.js';
import type { DeploymentInfo } from '../../providers/kubernetes/types.js';
import { gather, type Gap } from './gather.js';

/** One service's workload in one environment. */
export interface DeploymentRow {
  service: string;
  env: string;
  namespace: string;
  deployment: string;
  image: string;
  version: string;
  digest?: string;
  ready: number;
  desired: number;
  revision?: number;
  last_rollout?: string;
  status: 'available' | 'progressing' | 'degraded' | 'scaled_to_zero';
}

/** Which service a deployment belongs to: the resolver's answer, else its own name for itself. */
export function serviceOf(deps: Deps, env: string, d: DeploymentInfo): string {
  return (
    deps.catalog.resolver.workloadService(env, d.namespace, d.name, d.labels)?.id ??
    d.labels['app.kubernetes.io/name'] ??
    d.labels.app ??
    d.name
  );
}

/** Splits an image reference into repository, tag (version) and digest. */
export function parseImage(image: string): { repository: string; tag: string; digest?: string } {
  const [withoutDigest, digest] = image.split('@') as [string, string | undefined];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash)
    return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
  return { repository: withoutDigest, tag: digest ? digest.slice(0, 19) : 'latest', digest };
}

export function toRow(deps: Deps, env: string, d: DeploymentInfo): DeploymentRow {
  const image = d.images[0]?.image ?? '';
  const parsed = parseImage(image);
  const progressing = d.conditions.find((c) => c.type === 'Progressing');
  const available = d.conditions.find((c) => c.type === 'Available');
  const status: DeploymentRow['status'] =
    d.replicas === 0
      ? 'scaled_to_zero'
      : progressing?.reason === 'ProgressDeadlineExceeded' || available?.status === 'False'
        ? 'degraded'
        : d.updatedReplicas < d.replicas || d.readyReplicas < d.replicas
          ? 'progressing'
          : 'available';
  return {
    service: serviceOf(deps, env, d),
    env,
    namespace: d.namespace,
    deployment: d.name,
    image,
    version: parsed.tag,
    digest: parsed.digest,
    ready: d.readyReplicas,
    desired: d.replicas,
    revision: d.revision,
    last_rollout: d.annotations['day2.dev/last-rollout'] ?? d.createdAt,
    status,
  };
}

/** Deployments of the configured environments (or one), mapped to services, with gaps. */
export async function collectDeployments(
  deps: Deps,
  envs?: string[],
): Promise<{ rows: DeploymentRow[]; gaps: Gap[] }> {
  const list = envs ?? Object.keys(deps.config.environments);
  const tasks = list
    .filter((env) => deps.backends.has(env, 'kubernetes'))
    .map((env) => ({
      backend: 'kubernetes',
      env,
      run: async () =>
        (await deps.backends.kubernetes(env).listDeployments()).map((d) => toRow(deps, env, d)),
    }));
  const { results, gaps } = await gather(tasks, deps.config.backends.timeout);
  const rows = results.flatMap((r) => r.value);
  rows.sort((a, b) => a.service.localeCompare(b.service) || a.env.localeCompare(b.env));
  return { rows, gaps };
}

/** Services whose version differs between environments. */
export function versionSkew(rows: DeploymentRow[]): { service: string; versions: Record<string, string> }[] {
  const by = new Map<string, Record<string, string>>();
  for (const r of rows) {
    const v = by.get(r.service) ?? {};
    v[r.env] = r.version;
    by.set(r.service, v);
  }
  return [...by.entries()]
    .filter(([, v]) => new Set(Object.values(v)).size > 1)
    .map(([service, versions]) => ({ service, versions }));
}
