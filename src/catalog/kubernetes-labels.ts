import { KUBERNETES_LABELS } from './annotations.js';
import { Catalog } from './catalog.js';
import { humanizeEntityRef, tryParseEntityRef } from './entity-ref.js';
import type { CatalogService } from './model.js';

/** What day2 needs to know about one live workload to link it to the catalog. */
export interface KubernetesWorkloadLabels {
  env: string;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function normalize(text: string | undefined, kind: 'group' | 'system'): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const ref = tryParseEntityRef(text, { defaultKind: kind });
  return ref ? humanizeEntityRef(ref, kind) : text.trim().toLowerCase();
}

/**
 * Merges live Kubernetes workloads into the catalog and returns a new catalog. Each workload is
 * linked to a service (by the catalog's workload annotation, `backstage.io/kubernetes-id`,
 * `app.kubernetes.io/name`, or the deployment name); workloads that match no service become
 * services of their own (never dropped). Where labels (`day2.dev/owner`,
 * `app.kubernetes.io/part-of`) disagree with the catalog, a conflict is reported.
 */
export function mergeKubernetesLabels(
  catalog: Catalog,
  deployments: readonly KubernetesWorkloadLabels[],
): Catalog {
  const data = catalog.toData();
  const byId = new Map(data.services.map((s) => [s.id, s]));
  const claims = new Map<string, Map<string, { source: string; value: string }[]>>();
  const claim = (service: string, field: string, source: string, value: string | undefined) => {
    if (value === undefined) return;
    const fields = claims.get(service) ?? new Map<string, { source: string; value: string }[]>();
    claims.set(service, fields);
    const list = fields.get(field) ?? [];
    fields.set(field, list);
    list.push({ source, value });
  };
  for (const s of data.services) {
    claim(s.id, 'owner', s.sources[0] ?? 'catalog', s.owner);
    claim(s.id, 'system', s.sources[0] ?? 'catalog', s.system);
  }

  for (const d of deployments) {
    const labels = d.labels ?? {};
    const annotations = d.annotations ?? {};
    const source = `kubernetes:${d.env}/${d.namespace}/${d.name}`;
    const appName = labels[KUBERNETES_LABELS.name];
    const owner = normalize(labels[KUBERNETES_LABELS.owner] ?? annotations[KUBERNETES_LABELS.owner], 'group');
    const system = normalize(labels[KUBERNETES_LABELS.partOf], 'system');
    const backstageId = labels[KUBERNETES_LABELS.backstageId];
    const linked =
      catalog.serviceForWorkload(d.env, d.namespace, d.name) ??
      (backstageId !== undefined ? catalog.serviceForKubernetesId(backstageId) : undefined) ??
      (appName !== undefined ? catalog.service(appName) : undefined) ??
      catalog.service(d.name);
    let svc: CatalogService | undefined = linked ? byId.get(linked.id) : undefined;
    if (!svc) {
      const id = (appName ?? d.name).toLowerCase();
      svc = byId.get(id);
      if (!svc) {
        svc = {
          id,
          ref: `component:default/${id}`,
          name: id,
          namespace: 'default',
          type: 'service',
          owner,
          system,
          dependsOn: [],
          dependents: [],
          links: [],
          runbooks: [],
          workloads: [],
          secrets: [],
          databases: [],
          tags: ['kubernetes-only'],
          annotations: {},
          sources: [],
        };
        const managedBy = labels[KUBERNETES_LABELS.managedBy];
        if (managedBy !== undefined) svc.annotations[KUBERNETES_LABELS.managedBy] = managedBy;
        data.services.push(svc);
        byId.set(id, svc);
      }
    }
    const workload = svc.workloads.find(
      (w) => w.env === d.env && w.namespace === d.namespace && w.name === d.name,
    );
    if (workload) workload.appName ??= appName;
    else
      svc.workloads.push({
        env: d.env,
        namespace: d.namespace,
        name: d.name,
        ...(appName !== undefined ? { appName } : {}),
        source,
      });
    if (!svc.sources.includes(source)) svc.sources.push(source);
    claim(svc.id, 'owner', source, owner);
    claim(svc.id, 'system', source, system);
  }

  for (const [service, fields] of claims) {
    for (const [field, values] of fields) {
      if (new Set(values.map((v) => v.value)).size > 1)
        data.conflicts.push({ entity: service, field, values });
    }
  }
  return new Catalog(data);
}
