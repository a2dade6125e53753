import {
  ANNOTATIONS,
  parseDatabases,
  parseSecrets,
  parseTier,
  parseUrl,
  parseWorkloads,
} from './annotations.js';
import type { Entity } from './descriptor-schema.js';
import { humanizeEntityRef, stringifyEntityRef } from './entity-ref.js';
import type { EntityRef } from './entity-ref.js';
import { Catalog } from './catalog.js';
import type {
  CatalogConflict,
  CatalogData,
  CatalogGroup,
  CatalogLink,
  CatalogResource,
  CatalogService,
  CatalogSystem,
} from './model.js';

const nodeId = (ref: EntityRef) => humanizeEntityRef(ref, 'component');
const groupId = (ref: EntityRef) =>
  ref.kind === 'group' ? humanizeEntityRef(ref, 'group') : stringifyEntityRef(ref);
const systemId = (ref: EntityRef) => humanizeEntityRef(ref, 'system');

function selfRef(kind: string, e: Entity): EntityRef {
  return {
    kind,
    namespace: (e.metadata.namespace ?? 'default').toLowerCase(),
    name: e.metadata.name.toLowerCase(),
  };
}

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T | undefined {
  return r.ok ? r.value : undefined;
}

function annotationValues(annotations: Record<string, string>, source: string) {
  const get = (k: string) => annotations[k];
  const wl = get(ANNOTATIONS.kubernetesWorkload);
  const sec = get(ANNOTATIONS.secrets);
  const db = get(ANNOTATIONS.database);
  const tier = get(ANNOTATIONS.tier);
  const runbook = get(ANNOTATIONS.runbook);
  return {
    workloads: (wl ? (ok(parseWorkloads(wl)) ?? []) : []).map((w) => ({ ...w, source })),
    secrets: sec ? (ok(parseSecrets(sec)) ?? []) : [],
    databases: db ? (ok(parseDatabases(db)) ?? []) : [],
    tier: tier ? ok(parseTier(tier)) : undefined,
    runbook: runbook ? ok(parseUrl(runbook)) : undefined,
  };
}

/**
 * Builds a catalog from validated descriptors. The first definition of an entity wins; a second
 * one from another file is reported as a conflict, never silently merged.
 */
export function buildCatalog(entities: readonly Entity[]): Catalog {
  const services = new Map<string, CatalogService>();
  const resources = new Map<string, CatalogResource>();
  const groups = new Map<string, CatalogGroup>();
  const systems = new Map<string, CatalogSystem>();
  const conflicts: CatalogConflict[] = [];
  const firstSource = new Map<string, string>();
  const extraDependents: { from: string; to: string }[] = [];

  for (const e of entities) {
    const ref = selfRef(e.kind, e);
    const key = stringifyEntityRef(ref);
    const prior = firstSource.get(key);
    if (prior !== undefined) {
      conflicts.push({
        entity: humanizeEntityRef(ref),
        field: 'definition',
        values: [
          { source: prior, value: 'defined' },
          { source: e.source, value: 'defined again' },
        ],
      });
      continue;
    }
    firstSource.set(key, e.source);
    const annotations = e.metadata.annotations ?? {};
    const base = {
      ref: key,
      name: ref.name,
      namespace: ref.namespace,
      title: e.metadata.title,
      description: e.metadata.description,
    };
    switch (e.kind) {
      case 'component': {
        const a = annotationValues(annotations, e.source);
        const links: CatalogLink[] = (e.metadata.links ?? []).map((l) => ({
          url: l.url,
          title: l.title,
          type: l.type,
        }));
        const runbooks = [
          ...(a.runbook ? [a.runbook] : []),
          ...links.filter((l) => l.type === 'runbook' || /runbook/i.test(l.title ?? '')).map((l) => l.url),
        ];
        services.set(nodeId(ref), {
          ...base,
          id: nodeId(ref),
          type: e.spec.type,
          owner: groupId(e.spec.owner),
          system: e.spec.system ? systemId(e.spec.system) : undefined,
          lifecycle: e.spec.lifecycle,
          tier: a.tier,
          dependsOn: [...new Set((e.spec.dependsOn ?? []).map(nodeId))],
          dependents: [],
          links,
          runbooks: [...new Set(runbooks)],
          workloads: a.workloads,
          kubernetesId: annotations[ANNOTATIONS.kubernetesId],
          secrets: a.secrets,
          databases: a.databases,
          dbRole: annotations[ANNOTATIONS.dbRole],
          datadogService: annotations[ANNOTATIONS.datadogService],
          pagerdutyServiceId: annotations[ANNOTATIONS.pagerdutyServiceId],
          tags: e.metadata.tags ?? [],
          annotations,
          sources: [e.source],
        });
        break;
      }
      case 'resource': {
        const a = annotationValues(annotations, e.source);
        const id = nodeId(ref);
        for (const d of e.spec.dependencyOf ?? []) extraDependents.push({ from: nodeId(d), to: id });
        resources.set(id, {
          ...base,
          id,
          type: e.spec.type,
          owner: groupId(e.spec.owner),
          system: e.spec.system ? systemId(e.spec.system) : undefined,
          tier: a.tier,
          dependsOn: [...new Set((e.spec.dependsOn ?? []).map(nodeId))],
          dependents: [],
          database: a.databases[0] ?? (e.spec.type === 'database' ? ref.name : undefined),
          annotations,
          sources: [e.source],
        });
        break;
      }
      case 'system':
        systems.set(systemId(ref), {
          ...base,
          id: systemId(ref),
          owner: groupId(e.spec.owner),
          domain: e.spec.domain,
          services: [],
          sources: [e.source],
        });
        break;
      case 'group':
        groups.set(groupId(ref), {
          id: groupId(ref),
          ref: key,
          name: ref.name,
          type: e.spec.type,
          displayName: e.spec.profile?.displayName ?? e.metadata.title,
          email: e.spec.profile?.email,
          slack: e.spec.profile?.slack ?? annotations[ANNOTATIONS.slackChannel],
          members: (e.spec.members ?? []).map((m) => humanizeEntityRef(m, 'user')),
          parent: e.spec.parent ? groupId(e.spec.parent) : undefined,
          children: e.spec.children.map(groupId),
          services: [],
          sources: [e.source],
        });
        break;
    }
  }
  for (const { from, to } of extraDependents) {
    const s = services.get(from) ?? resources.get(from);
    if (s && !s.dependsOn.includes(to)) s.dependsOn.push(to);
  }
  // A service's databases include the database resources it depends on.
  for (const s of services.values()) {
    for (const d of s.dependsOn) {
      const db = resources.get(d)?.database;
      if (db !== undefined && !s.databases.includes(db)) s.databases.push(db);
    }
  }
  const data: CatalogData = {
    services: [...services.values()],
    resources: [...resources.values()],
    groups: [...groups.values()],
    systems: [...systems.values()],
    conflicts,
    warnings: [],
  };
  return new Catalog(data);
}
