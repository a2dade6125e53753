import type { Deps } from '../../contract/deps.js';
import { ToolError } from '../../contract/define-tool.js';
import { resolveWorkload, type Workload } from '../deploys/workload.js';

export interface ResolvedWorkload extends Workload {
  /** Catalog service id, or the deployment name when only a raw `namespace/name` was given. */
  service: string;
}

const RAW = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/;

/**
 * The Deployment an incident write acts on. These tools take one `service` field, which may also
 * be a raw `namespace/name`; resolution itself (env, Kubernetes, catalog workload) is the deploy
 * tools' resolveWorkload, so both toolsets refuse the same things with the same messages.
 */
export function resolveIncidentTarget(deps: Deps, service: string, env: string): ResolvedWorkload {
  const known = deps.catalog.resolver.findService(service, env);
  const raw = known ? undefined : RAW.exec(service);
  try {
    const w = raw
      ? resolveWorkload(deps, { env, namespace: raw[1], deployment: raw[2] })
      : resolveWorkload(deps, { env, service });
    return { ...w, service: w.service ?? w.name };
  } catch (err) {
    // These tools have no namespace and deployment fields: point at the raw form of `service`.
    if (err instanceof ToolError && !raw && err.field === 'service' && err.code === 'not_found') {
      throw new ToolError(
        known
          ? `service: the catalog links no Kubernetes workload to "${known.id}" in ${env}; give service as namespace/deployment`
          : `${err.message} (a raw namespace/deployment works too)`,
        err.code,
        err.field,
      );
    }
    throw err;
  }
}
