import type { SecretRef, ServiceTier } from './annotations.js';

/** A workload linked to a service in one environment (`*`: every environment). */
export interface ServiceWorkload {
  env: string;
  namespace: string;
  name: string;
  /** The workload's `app.kubernetes.io/name` label, where it has one: another name of the service. */
  appName?: string;
  /** Catalog file or `kubernetes:<env>/<namespace>/<name>` that established the link. */
  source: string;
}

export interface CatalogLink {
  url: string;
  title?: string;
  type?: string;
}

/** A Component (or a workload found only on Kubernetes), as day2 sees it. */
export interface CatalogService {
  /** Short id: the name, prefixed by `namespace/` outside the default namespace. */
  id: string;
  /** Full entity ref, `component:namespace/name`. */
  ref: string;
  name: string;
  namespace: string;
  title?: string;
  description?: string;
  type?: string;
  /** Owning group id (`payments-team`). */
  owner?: string;
  /** System id (`payments`). */
  system?: string;
  lifecycle?: string;
  tier?: ServiceTier;
  /** Node ids this service depends on: services (`cart`) and resources (`resource:orders-db`). */
  dependsOn: string[];
  /** Service ids that depend on this service. Computed. */
  dependents: string[];
  links: CatalogLink[];
  runbooks: string[];
  workloads: ServiceWorkload[];
  kubernetesId?: string;
  secrets: SecretRef[];
  /** Database keys (environment config `databases.<key>`), from annotations and database resources. */
  databases: string[];
  dbRole?: string;
  datadogService?: string;
  pagerdutyServiceId?: string;
  tags: string[];
  annotations: Record<string, string>;
  /** Every input that mentions this service: catalog files, `kubernetes:<env>/<ns>/<name>`. */
  sources: string[];
}

/** A Resource (database, queue, cache, bucket, ...). */
export interface CatalogResource {
  /** Short id, `resource:orders-db`. */
  id: string;
  ref: string;
  name: string;
  namespace: string;
  type: string;
  title?: string;
  description?: string;
  owner?: string;
  system?: string;
  tier?: ServiceTier;
  dependsOn: string[];
  /** Service ids (and resource ids) depending on this resource. Computed. */
  dependents: string[];
  /** Database key when the resource is a database. */
  database?: string;
  annotations: Record<string, string>;
  sources: string[];
}

/** A team: owner of services, with its people and how to reach it. */
export interface CatalogGroup {
  id: string;
  ref: string;
  name: string;
  type: string;
  displayName?: string;
  email?: string;
  slack?: string;
  members: string[];
  parent?: string;
  children: string[];
  /** Service ids owned by the group. Computed. */
  services: string[];
  sources: string[];
}

export interface CatalogSystem {
  id: string;
  ref: string;
  name: string;
  owner?: string;
  domain?: string;
  title?: string;
  description?: string;
  /** Service ids part of the system. Computed. */
  services: string[];
  sources: string[];
}

/** Two inputs disagree about one fact of one entity. */
export interface CatalogConflict {
  entity: string;
  field: string;
  values: { source: string; value: string }[];
}

/** The raw content of a catalog; `Catalog` indexes it. */
export interface CatalogData {
  services: CatalogService[];
  resources: CatalogResource[];
  groups: CatalogGroup[];
  systems: CatalogSystem[];
  conflicts: CatalogConflict[];
  warnings: string[];
}
