import { environmentConfig } from '../config/lookup.js';
import {
  defineResource,
  defineResourceTemplate,
  ResourceNotFoundError,
  type ResourceContext,
} from '../contract/define-resource.js';
import { capList } from '../contract/pages.js';
import type { Deps } from '../contract/deps.js';
import { toGraphJson, toMermaid, type GraphJson } from '../catalog/graph-export.js';
import type { Catalog } from '../catalog/catalog.js';
import { collectAlerts } from '../tools/context/alerts.js';
import { collectDeployments, versionSkew } from '../tools/context/deployments.js';
import { changesPage } from '../tools/context/changes/page.js';

/** Rows a listing resource holds; past it, the resource names the tool that pages through all. */
const LIST_CAP = 100;

export const servicesResource = defineResource({
  uri: 'day2://services',
  name: 'services',
  title: 'Services',
  description: 'Every service in the catalog with owner, system, tier and dependency counts.',
  mimeType: 'application/json',
  read(ctx) {
    const c = ctx.deps.catalog;
    return Promise.resolve({
      json: {
        services: c.services().map((s) => ({
          name: s.id,
          owner: s.owner,
          system: s.system,
          tier: s.tier,
          depends_on: s.dependsOn.length,
          dependents: s.dependents.length,
        })),
        conflicts: c.conflicts.slice(0, 50),
        conflicts_total: c.conflicts.length,
      },
    });
  },
});

export const serviceResource = defineResourceTemplate({
  uriTemplate: 'day2://services/{name}',
  name: 'service',
  title: 'Service',
  description: 'One service: catalog entry, owners, dependencies, workloads and deployed versions per env.',
  mimeType: 'application/json',
  complete(variable, prefix, deps) {
    return Promise.resolve(variable === 'name' ? deps.catalog.completeServiceNames(prefix, 100) : []);
  },
  async read(params, ctx) {
    const name = decodeURIComponent(params.name ?? '');
    const s = ctx.deps.catalog.resolver.findService(name);
    if (!s)
      throw new ResourceNotFoundError(
        ctx.deps.catalog.resolver.refuse(name, 'service', { field: 'name' }).message,
      );
    const { rows, gaps } = await collectDeployments(ctx.deps);
    const owner = s.owner ? ctx.deps.catalog.group(s.owner) : undefined;
    return {
      json: {
        name: s.id,
        title: s.title,
        description: s.description,
        owner: s.owner,
        contact: owner ? { slack: owner.slack, email: owner.email } : undefined,
        system: s.system,
        tier: s.tier,
        lifecycle: s.lifecycle,
        depends_on: s.dependsOn,
        dependents: s.dependents,
        runbooks: s.runbooks,
        links: s.links.slice(0, 10),
        workloads: s.workloads,
        secrets: s.secrets.map((r) => r.name),
        databases: s.databases,
        sources: s.sources,
        deployments: rows.filter((r) => r.service === s.id),
        gaps,
      },
    };
  },
});

const graphCache = new WeakMap<Catalog, { json: GraphJson; mermaid: string }>();

export const graphResource = defineResource({
  uri: 'day2://graph',
  name: 'graph',
  title: 'Dependency graph',
  description:
    'Services and resources with owners and tiers as JSON nodes and edges, plus a Mermaid rendering.',
  mimeType: 'application/json',
  read(ctx) {
    const c = ctx.deps.catalog;
    let g = graphCache.get(c);
    if (!g) {
      g = { json: toGraphJson(c), mermaid: toMermaid(c) };
      graphCache.set(c, g);
    }
    return Promise.resolve({
      json: g.json,
      extra: [{ uri: 'day2://graph#mermaid', mimeType: 'text/vnd.mermaid', text: g.mermaid }],
    });
  },
});

export const alertsResource = defineResource({
  uri: 'day2://alerts',
  name: 'alerts',
  title: 'Active alerts',
  description: 'Datadog monitors in Alert/Warn and Alertmanager alerts in one shape.',
  mimeType: 'application/json',
  subscribable: true,
  async read(ctx) {
    const { alerts, gaps } = await collectAlerts(ctx.deps);
    return {
      json: {
        ...capList('alerts', alerts, LIST_CAP, {
          tool: 'list_alerts',
          args: { include_silenced: true, limit: 100 },
        }),
        gaps,
      },
    };
  },
});

export const deploymentsResource = defineResourceTemplate({
  uriTemplate: 'day2://deployments/{env}',
  name: 'deployments',
  title: 'Deployments',
  description: 'Per env: service → image, version, ready/desired replicas, last rollout, revision.',
  mimeType: 'application/json',
  ...envResources('deployments'),
  async read(params, ctx) {
    const env = params.env ?? '';
    if (!environmentConfig(ctx.deps.config, env)) throw new ResourceNotFoundError(`no environment "${env}"`);
    const all = await collectDeployments(ctx.deps);
    const rows = all.rows.filter((r) => r.env === env);
    const skew = versionSkew(all.rows).filter((s) => s.versions[env] !== undefined);
    return {
      json: {
        env,
        ...capList('deployments', rows, LIST_CAP, { tool: 'list_deployments', args: { env, limit: 100 } }),
        skew,
        gaps: all.gaps,
      },
    };
  },
});

/** The environments of the configuration, as a template's list and completion offer them. */
function envResources(prefix: string) {
  return {
    list(ctx: ResourceContext) {
      return Promise.resolve(
        Object.keys(ctx.deps.config.environments).map((env) => ({
          uri: `day2://${prefix}/${env}`,
          name: `${prefix}-${env}`,
        })),
      );
    },
    complete(variable: string, value: string, deps: Deps) {
      return Promise.resolve(
        variable === 'env' ? Object.keys(deps.config.environments).filter((e) => e.startsWith(value)) : [],
      );
    },
  };
}

export const changesResource = defineResourceTemplate({
  uriTemplate: 'day2://changes/{env}',
  name: 'changes',
  title: 'Changes',
  description:
    'Per env, the last 24 hours of the change ledger, newest first: rollouts and who made them, day2 writes with their approvals, hand edits, silences, downtimes, incidents. list_changes pages further.',
  mimeType: 'application/json',
  ...envResources('changes'),
  async read(params, ctx) {
    const env = params.env ?? '';
    if (!environmentConfig(ctx.deps.config, env)) throw new ResourceNotFoundError(`no environment "${env}"`);
    return { json: await changesPage(ctx.deps, { env }) };
  },
});
