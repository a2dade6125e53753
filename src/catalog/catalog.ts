import { resolveSecretRef } from './annotations.js';
import type { SecretRef } from './annotations.js';
import { humanizeEntityRef, tryParseEntityRef } from './entity-ref.js';
import { dependencyImpact, restartOrder } from './graph.js';
import type { ImpactOptions, ImpactResult, RestartOrder } from './graph.js';
import { toGraphJson, toMermaid } from './graph-export.js';
import type { GraphJson, GraphOptions, MermaidOptions } from './graph-export.js';
import { EntityResolver } from './resolver.js';
import type {
  CatalogConflict,
  CatalogData,
  CatalogGroup,
  CatalogResource,
  CatalogService,
  CatalogSystem,
  ServiceWorkload,
} from './model.js';
import { compareText } from '../core/compare-text.js';

export type CatalogNode = ({ kind: 'component' } & CatalogService) | ({ kind: 'resource' } & CatalogResource);

/**
 * The service catalog: services, resources, groups and systems with constant-time lookups by
 * name or entity ref, the dependency graph in both directions, and workload links per
 * environment. Immutable once built; `mergeKubernetesLabels` returns a new one.
 */
export class Catalog {
  private readonly servicesById = new Map<string, CatalogService>();
  private readonly resourcesById = new Map<string, CatalogResource>();
  private readonly groupsById = new Map<string, CatalogGroup>();
  private readonly systemsById = new Map<string, CatalogSystem>();
  private readonly byWorkload = new Map<string, string>();
  private readonly byKubernetesId = new Map<string, string>();
  private readonly sortedIds: string[];
  private resolverOnce?: EntityResolver;
  readonly conflicts: readonly CatalogConflict[];
  readonly warnings: readonly string[];

  constructor(private readonly data: CatalogData) {
    for (const s of data.services) {
      s.dependents = [];
      this.servicesById.set(s.id, s);
    }
    for (const r of data.resources) {
      r.dependents = [];
      this.resourcesById.set(r.id, r);
    }
    for (const g of data.groups) {
      g.services = [];
      this.groupsById.set(g.id, g);
    }
    for (const sys of data.systems) {
      sys.services = [];
      this.systemsById.set(sys.id, sys);
    }
    const warnings = [...data.warnings];
    const dependentsOf = (id: string) =>
      this.servicesById.get(id)?.dependents ?? this.resourcesById.get(id)?.dependents;
    for (const from of [...data.services, ...data.resources]) {
      for (const to of from.dependsOn) {
        const list = dependentsOf(to);
        if (list) list.push(from.id);
        else warnings.push(`${from.id} depends on ${to}, which is not in the catalog`);
      }
    }
    for (const s of data.services) {
      if (s.owner !== undefined) {
        const g = this.groupsById.get(s.owner);
        if (g) g.services.push(s.id);
        else warnings.push(`${s.id} is owned by ${s.owner}, which is not a group in the catalog`);
      }
      if (s.system !== undefined) {
        const sys = this.systemsById.get(s.system);
        if (sys) sys.services.push(s.id);
        else warnings.push(`${s.id} is part of system ${s.system}, which is not in the catalog`);
      }
      for (const w of s.workloads) this.byWorkload.set(`${w.env}|${w.namespace}|${w.name}`, s.id);
      if (s.kubernetesId !== undefined) this.byKubernetesId.set(s.kubernetesId, s.id);
    }
    this.sortedIds = [...this.servicesById.keys()].sort();
    this.conflicts = data.conflicts;
    this.warnings = [...new Set(warnings)];
  }

  static empty(): Catalog {
    return new Catalog({ services: [], resources: [], groups: [], systems: [], conflicts: [], warnings: [] });
  }

  /** A deep copy of the underlying data, for building a derived catalog. */
  toData(): CatalogData {
    return structuredClone(this.data);
  }

  get size(): number {
    return this.servicesById.size;
  }

  /** The one resolver of names (ids, refs, aliases) to services and resources; built on first use. */
  get resolver(): EntityResolver {
    return (this.resolverOnce ??= new EntityResolver(this));
  }

  private idFor(text: string, defaultKind: string): string | undefined {
    const ref = tryParseEntityRef(text, { defaultKind });
    if (!ref) return undefined;
    return defaultKind === 'component'
      ? humanizeEntityRef(ref, 'component')
      : humanizeEntityRef(ref, defaultKind);
  }

  /** A service by id (`checkout`), ref (`component:default/checkout`) or `namespace/name`. */
  service(nameOrRef: string): CatalogService | undefined {
    const id = this.idFor(nameOrRef, 'component');
    return id === undefined ? undefined : this.servicesById.get(id);
  }

  /** A resource by id (`resource:orders-db`) or name (`orders-db`). */
  resource(nameOrRef: string): CatalogResource | undefined {
    const ref = tryParseEntityRef(nameOrRef, { defaultKind: 'resource' });
    return ref ? this.resourcesById.get(humanizeEntityRef(ref, 'component')) : undefined;
  }

  group(nameOrRef: string): CatalogGroup | undefined {
    const id = this.idFor(nameOrRef, 'group');
    return id === undefined ? undefined : this.groupsById.get(id);
  }

  system(nameOrRef: string): CatalogSystem | undefined {
    const id = this.idFor(nameOrRef, 'system');
    return id === undefined ? undefined : this.systemsById.get(id);
  }

  /** A graph node (service or resource) by node id. */
  node(id: string): CatalogNode | undefined {
    const s = this.servicesById.get(id);
    if (s) return { kind: 'component', ...s };
    const r = this.resourcesById.get(id);
    return r ? { kind: 'resource', ...r } : undefined;
  }

  /** Node ids the node depends on (upstream). */
  dependenciesOf(id: string): readonly string[] {
    return this.servicesById.get(id)?.dependsOn ?? this.resourcesById.get(id)?.dependsOn ?? [];
  }

  /** Node ids depending on the node (downstream). */
  dependentsOf(id: string): readonly string[] {
    return this.servicesById.get(id)?.dependents ?? this.resourcesById.get(id)?.dependents ?? [];
  }

  services(): CatalogService[] {
    return this.sortedIds.map((id) => this.servicesById.get(id)!);
  }

  resources(): CatalogResource[] {
    return [...this.resourcesById.values()].sort((a, b) => compareText(a.id, b.id));
  }

  groups(): CatalogGroup[] {
    return [...this.groupsById.values()].sort((a, b) => compareText(a.id, b.id));
  }

  systems(): CatalogSystem[] {
    return [...this.systemsById.values()].sort((a, b) => compareText(a.id, b.id));
  }

  /** The workload of a service in an environment: the env-specific link, else the default one. */
  workloadFor(service: string, env: string): ServiceWorkload | undefined {
    const s = this.service(service);
    if (!s) return undefined;
    return s.workloads.find((w) => w.env === env) ?? s.workloads.find((w) => w.env === '*');
  }

  /** The service a Kubernetes workload belongs to, if the catalog links them. */
  serviceForWorkload(env: string, namespace: string, name: string): CatalogService | undefined {
    const id =
      this.byWorkload.get(`${env}|${namespace}|${name}`) ?? this.byWorkload.get(`*|${namespace}|${name}`);
    return id === undefined ? undefined : this.servicesById.get(id);
  }

  /** The service whose `backstage.io/kubernetes-id` is `id`. */
  serviceForKubernetesId(id: string): CatalogService | undefined {
    const sid = this.byKubernetesId.get(id);
    return sid === undefined ? undefined : this.servicesById.get(sid);
  }

  /** The secrets of a service with `{env}` filled in. */
  secretsFor(service: string, env: string): SecretRef[] {
    return (this.service(service)?.secrets ?? []).map((r) => resolveSecretRef(r, env));
  }

  /**
   * Service ids for completion: ids starting with `prefix` first (sorted), then ids containing
   * it (e.g. after a dash), then services whose title contains it. Case-insensitive.
   */
  completeServiceNames(prefix: string, limit = 20): string[] {
    const p = prefix.toLowerCase();
    const out: string[] = [];
    let lo = 0;
    let hi = this.sortedIds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sortedIds[mid]! < p) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sortedIds.length && out.length < limit; i++) {
      const id = this.sortedIds[i]!;
      if (!id.startsWith(p)) break;
      out.push(id);
    }
    if (out.length >= limit || p === '') return out;
    const seen = new Set(out);
    for (const id of this.sortedIds) {
      if (out.length >= limit) break;
      if (!seen.has(id) && id.includes(p)) {
        out.push(id);
        seen.add(id);
      }
    }
    for (const id of this.sortedIds) {
      if (out.length >= limit) break;
      if (!seen.has(id) && (this.servicesById.get(id)!.title ?? '').toLowerCase().includes(p)) out.push(id);
    }
    return out;
  }

  dependencyImpact(service: string, opts: ImpactOptions = {}): ImpactResult {
    return dependencyImpact(this, service, opts);
  }

  restartOrder(services: readonly string[]): RestartOrder {
    return restartOrder(this, services);
  }

  toGraphJson(opts: GraphOptions = {}): GraphJson {
    return toGraphJson(this, opts);
  }

  toMermaid(opts: MermaidOptions = {}): string {
    return toMermaid(this, opts);
  }
}
