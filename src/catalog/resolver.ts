import { ToolError } from '../core/errors.js';
import { KUBERNETES_LABELS } from './annotations.js';
import type { Catalog, CatalogNode } from './catalog.js';
import { closestNames } from './closest-names.js';
import { tryParseEntityRef } from './entity-ref.js';
import type { CatalogService } from './model.js';

/** What a name may stand for: a service only, or any node of the graph (services and resources). */
export type NameScope = 'service' | 'entity';

export interface ResolveOptions {
  /** The argument the name came in, named by errors; default `service`. */
  field?: string;
  /** The environment the call concerns: its workloads and labels are tried first. */
  env?: string;
}

/** A name a service or resource is also known by, in one environment (`*`: every one). */
interface Alias {
  id: string;
  env: string;
}

type Lookup = { node: CatalogNode } | { ambiguous: string[] } | undefined;

const SUGGESTIONS = 5;

/**
 * The one place where a name becomes a catalog entity, for every tool, resource and prompt and for
 * every name a backend uses (an alert's `service` label, a monitor's `service:` tag, a workload).
 * A name is, case-insensitively: a service id or entity ref (`checkout`, `component:shop/checkout`);
 * a resource name or ref (`payments-db`, `resource:payments-db`); or an alias — the Datadog service
 * (`day2.dev/datadog-service`), the `backstage.io/kubernetes-id`, a workload's
 * `app.kubernetes.io/name` or its `namespace/name` in an environment, a database resource's
 * database key. Ids and refs win over aliases, and an environment's aliases over other ones.
 */
export class EntityResolver {
  private readonly aliases = new Map<string, Alias[]>();

  constructor(private readonly catalog: Catalog) {
    for (const s of catalog.services()) {
      this.alias(s.datadogService, s.id, '*');
      this.alias(s.kubernetesId, s.id, '*');
      for (const w of s.workloads) {
        this.alias(`${w.namespace}/${w.name}`, s.id, w.env);
        this.alias(w.name, s.id, w.env);
        this.alias(w.appName, s.id, w.env);
      }
    }
    for (const r of catalog.resources()) this.alias(r.database, r.id, '*');
  }

  private alias(name: string | undefined, id: string, env: string): void {
    if (name === undefined || name.trim() === '') return;
    const key = name.trim().toLowerCase();
    const list = this.aliases.get(key) ?? [];
    if (!list.some((a) => a.id === id && a.env === env)) list.push({ id, env });
    this.aliases.set(key, list);
  }

  /** The service a name stands for, or undefined. */
  findService(name: string, env?: string): CatalogService | undefined {
    const found = this.lookup(name, env);
    return found && 'node' in found && found.node.kind === 'component'
      ? this.catalog.service(found.node.id)
      : undefined;
  }

  /** The service or resource a name stands for, or undefined. */
  findEntity(name: string, env?: string): CatalogNode | undefined {
    const found = this.lookup(name, env);
    return found && 'node' in found ? found.node : undefined;
  }

  /** The service a name stands for, or a ToolError naming the field and the closest services. */
  service(name: string, opts: ResolveOptions = {}): CatalogService {
    const found = this.lookup(name, opts.env);
    if (found && 'node' in found && found.node.kind === 'component')
      return this.catalog.service(found.node.id)!;
    throw this.refusal(name, 'service', opts, found);
  }

  /** The service or resource a name stands for, or a ToolError naming the field and the closest names. */
  entity(name: string, opts: ResolveOptions = {}): CatalogNode {
    const found = this.lookup(name, opts.env);
    if (found && 'node' in found) return found.node;
    throw this.refusal(name, 'entity', opts, found);
  }

  /**
   * The graph node a backend's name for something stands for in `env` (an alert's `service` label,
   * a monitor's `service:` tag), or undefined when the catalog does not know it.
   */
  attribute(name: string | null | undefined, env?: string): string | undefined {
    return name ? this.findEntity(name, env)?.id : undefined;
  }

  /**
   * The service a live workload belongs to: the catalog's link for that environment, else its
   * `backstage.io/kubernetes-id` or `app.kubernetes.io/name` label.
   */
  workloadService(
    env: string,
    namespace: string,
    name: string,
    labels: Record<string, string> = {},
  ): CatalogService | undefined {
    const backstageId = labels[KUBERNETES_LABELS.backstageId];
    const appName = labels[KUBERNETES_LABELS.name];
    return (
      this.catalog.serviceForWorkload(env, namespace, name) ??
      (backstageId !== undefined ? this.catalog.serviceForKubernetesId(backstageId) : undefined) ??
      (appName !== undefined ? this.findService(appName, env) : undefined)
    );
  }

  /**
   * Every name a node is known by in `env` (or anywhere): its id and its aliases, lower-case. What a
   * backend's matcher or tag must name to select it (a silence on `service="edge-gateway"`).
   */
  namesOf(id: string, env?: string): string[] {
    const names = [id];
    for (const [alias, list] of this.aliases)
      if (list.some((a) => a.id === id && (env === undefined || a.env === env || a.env === '*')))
        names.push(alias);
    return [...new Set(names)];
  }

  /** The names closest to one the catalog does not know, by edit distance, prefix or shared word. */
  suggest(name: string, scope: NameScope = 'service', limit = SUGGESTIONS): string[] {
    const candidates = new Map<string, string>();
    for (const s of this.catalog.services()) candidates.set(s.id, s.id);
    if (scope === 'entity')
      for (const r of this.catalog.resources()) {
        candidates.set(r.id, r.id);
        candidates.set(r.name, r.id);
      }
    // A `namespace/name` is a candidate only for a query of that form: a namespace is no prefix of a name.
    const qualified = name.includes('/');
    for (const [alias, list] of this.aliases) {
      const id = list[0]!.id;
      if (candidates.has(alias) || alias.includes('/') !== qualified) continue;
      if (scope === 'entity' || this.catalog.service(id)) candidates.set(alias, id);
    }
    const ids = closestNames(bareName(name), candidates.keys(), limit * 3).map((n) => candidates.get(n)!);
    return [...new Set(ids)].slice(0, limit);
  }

  private lookup(text: string, env: string | undefined): Lookup {
    const name = text.trim();
    const ref = tryParseEntityRef(name);
    if (ref && ref.kind !== 'component' && ref.kind !== 'resource') return undefined;
    const direct =
      (ref?.kind !== 'resource' ? this.catalog.service(name) : undefined) ??
      (ref?.kind !== 'component' ? this.catalog.resource(name) : undefined);
    if (direct) return { node: this.catalog.node(direct.id)! };
    if (ref) return undefined;
    const all = this.aliases.get(name.toLowerCase()) ?? [];
    const here = env === undefined ? all : all.filter((a) => a.env === env || a.env === '*');
    // A name used in one environment only still says which entity is meant in another.
    for (const list of here.length ? [here] : [all]) {
      const ids = [...new Set(list.map((a) => a.id))];
      if (ids.length === 1) return { node: this.catalog.node(ids[0]!)! };
      if (ids.length > 1) return { ambiguous: ids.sort() };
    }
    return undefined;
  }

  /**
   * The error for a name that stands for no service (scope `service`) or no node (`entity`): it
   * names the field and suggests the closest names, or says the name is ambiguous.
   */
  refuse(name: string, scope: NameScope, opts: ResolveOptions = {}): ToolError {
    return this.refusal(name, scope, opts, this.lookup(name, opts.env));
  }

  private refusal(name: string, scope: NameScope, opts: ResolveOptions, found: Lookup): ToolError {
    const field = opts.field ?? 'service';
    if (found && 'ambiguous' in found)
      return new ToolError(
        `${field}: "${name}" names ${found.ambiguous.join(' and ')}${opts.env ? ` in ${opts.env}` : ' in different environments'}; give one of those ids${opts.env ? '' : ' or the env'}`,
        'ambiguous',
        field,
      );
    // Where the name is something else the catalog knows, its services are what was meant.
    const bare = bareName(name);
    const resource = found?.node;
    const system = this.catalog.system(bare);
    const group = this.catalog.group(bare);
    const what = [
      resource ? `${resource.id}, a ${resource.type ?? 'resource'}` : '',
      system ? `system ${system.id}` : '',
      group ? `team ${group.id}` : '',
    ].filter(Boolean);
    const related = [
      ...(resource?.dependents ?? []),
      ...(system?.services ?? []),
      ...(group?.services ?? []),
    ].filter((id) => scope === 'entity' || this.catalog.service(id));
    const close = [...new Set([...this.suggest(name, scope, 3), ...related])].slice(0, SUGGESTIONS);
    const kind = scope === 'service' ? 'service' : 'service or resource';
    return new ToolError(
      `${field}: no ${kind} "${name}" in the catalog${what.length ? ` ("${bare}" is ${what.join(' and ')})` : ''}` +
        (close.length ? `; did you mean ${close.join(', ')}?` : '; day2://services lists the services'),
      'not_found',
      field,
    );
  }
}

/** The name without a kind and the default namespace: what a person would have typed. */
function bareName(text: string): string {
  return text
    .trim()
    .replace(/^[A-Za-z]+:/, '')
    .replace(/^default\//i, '');
}
