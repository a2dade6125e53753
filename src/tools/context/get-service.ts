import { z } from 'zod';
import { defineTool } from '../../contract/define-tool.js';
import { envField, serviceField } from '../../contract/fields.js';
import { alertStates, collectAlerts } from './alerts.js';
import { gather, untrusted } from './gather.js';
import { toRow } from './deployments.js';
import { resolveEnv } from './resolve-service.js';
import { alertShape, gapShape, nodeStateShape } from './shapes.js';
import { activeHolds, holdLine, holdShape, holdView } from '../deploys/holds.js';

const selectorCache = new WeakMap<object, Map<string, string>>();

/** Deployment selectors seen so far, per set of backends. */
function selectorsOf(backends: object): Map<string, string> {
  let m = selectorCache.get(backends);
  if (!m) {
    m = new Map();
    selectorCache.set(backends, m);
  }
  return m;
}

export const getService = defineTool({
  name: 'get_service',
  title: 'Get service',
  description:
    'A service or resource in one env: owner, dependents, version, pod health, alerts, secrets, runbooks.',
  toolset: 'context',
  effect: 'read',
  risk: 'low',
  input: { service: serviceField, env: envField },
  output: {
    service: z.string().describe('catalog id: a service, or resource:<name>'),
    kind: z.enum(['component', 'resource']),
    type: z.string().optional().describe('service, database, queue, cache, ...'),
    env: z.string(),
    owner: z.string().optional(),
    contact: z.string().optional(),
    system: z.string().optional(),
    tier: z.string().optional(),
    depends_on: z.array(z.string()),
    dependents: z.array(z.string()),
    dependents_detail: z.array(nodeStateShape).describe('each direct dependent: owner, tier, alert state'),
    deployment: z
      .object({
        namespace: z.string(),
        name: z.string(),
        image: z.string(),
        version: z.string(),
        ready: z.number(),
        desired: z.number(),
        revision: z.number().optional(),
        status: z.string(),
      })
      .optional(),
    pods: z
      .object({ total: z.number(), ready: z.number(), restarts: z.number(), problems: z.array(z.string()) })
      .optional(),
    alerts: z.array(alertShape),
    secrets: z.array(z.string()),
    databases: z.array(z.string()),
    runbooks: z.array(z.string()),
    holds: z.array(holdShape).describe('versions held back here: no tool offers them'),
    gaps: z.array(gapShape),
  },
  async run(args, ctx) {
    const deps = ctx.deps;
    const env = resolveEnv(deps, args.env);
    const node = deps.catalog.resolver.entity(args.service, { env });
    const svc = node.kind === 'component' ? deps.catalog.service(node.id) : undefined;
    const workload = svc ? deps.catalog.workloadFor(svc.id, env) : undefined;
    const owner = node.owner ? deps.catalog.group(node.owner) : undefined;
    const k8s = workload && deps.backends.has(env, 'kubernetes') ? deps.backends.kubernetes(env) : undefined;
    const [kube, alerts, holds] = await Promise.all([
      gather(
        k8s && workload
          ? [
              {
                backend: 'kubernetes',
                env,
                run: async () => {
                  // A Deployment's selector is immutable (apps/v1), so once known the pods are
                  // listed alongside the Deployment rather than after it.
                  const key = `${env}/${workload.namespace}/${workload.name}`;
                  const known = selectorsOf(deps.backends).get(key);
                  const [d, pods] = await Promise.all([
                    k8s.getDeployment(workload.namespace, workload.name),
                    known === undefined ? undefined : k8s.listPods(workload.namespace, known),
                  ]);
                  selectorsOf(deps.backends).set(key, d.selector);
                  return {
                    d,
                    pods:
                      known === d.selector && pods
                        ? pods
                        : await k8s.listPods(workload.namespace, d.selector),
                  };
                },
              },
            ]
          : [],
        deps.config.backends.timeout,
      ),
      // Every alert of the env: this node's, and its dependents' alert state.
      collectAlerts(deps, { env }),
      svc ? activeHolds(deps, { env, service: svc.id }) : Promise.resolve([]),
    ]);
    const stateOf = alertStates(alerts.alerts, alerts.gaps);
    const found = kube.results[0]?.value;
    const problems = found
      ? found.pods.flatMap((p) =>
          p.containers
            .filter((c) => c.waitingReason || c.lastTerminationReason || !c.ready)
            .map((c) =>
              untrusted(
                `${p.name}/${c.name}: ${c.waitingReason ?? (c.ready ? '' : 'not ready')}${c.lastTerminationReason ? ` (last: ${c.lastTerminationReason})` : ''}, ${c.restartCount} restarts`,
                160,
              ),
            ),
        )
      : [];
    const row = found ? toRow(deps, env, found.d) : undefined;
    const dependents = node.dependents.slice(0, 30);
    return {
      service: node.id,
      kind: node.kind,
      type: node.type,
      env,
      owner: node.owner,
      contact: owner?.slack ?? owner?.email,
      system: node.system,
      tier: node.tier,
      depends_on: node.dependsOn.slice(0, 30),
      dependents,
      dependents_detail: dependents.map((id) => {
        const d = deps.catalog.node(id);
        return { id, kind: d?.kind ?? 'unknown', owner: d?.owner, tier: d?.tier, ...stateOf(id) };
      }),
      deployment: row
        ? {
            namespace: row.namespace,
            name: row.deployment,
            image: row.image,
            version: row.version,
            ready: row.ready,
            desired: row.desired,
            revision: row.revision,
            status: row.status,
          }
        : undefined,
      pods: found
        ? {
            total: found.pods.length,
            ready: found.pods.filter((p) => p.ready).length,
            restarts: found.pods.reduce((n, p) => n + p.restarts, 0),
            problems: problems.slice(0, 10),
          }
        : undefined,
      alerts: alerts.alerts.filter((a) => a.service === node.id).slice(0, 10),
      secrets: svc ? deps.catalog.secretsFor(svc.id, env).map((s) => s.name) : [],
      databases: node.kind === 'component' ? node.databases : node.database ? [node.database] : [],
      runbooks: svc?.runbooks.slice(0, 5) ?? [],
      holds: holds.slice(0, 10).map(holdView),
      gaps: [...kube.gaps, ...alerts.gaps],
    };
  },
  render: (o) =>
    [
      `${o.service} (${o.env})${o.kind === 'resource' ? ` ${o.type ?? 'resource'}` : ''} owner ${o.owner ?? 'unknown'}${o.tier ? `, tier ${o.tier}` : ''}`,
      o.deployment
        ? `deployed ${o.deployment.version} rev ${o.deployment.revision ?? '?'}: ${o.deployment.ready}/${o.deployment.desired} ready (${o.deployment.status})`
        : o.kind === 'component'
          ? 'no deployment found'
          : '',
      o.pods?.problems.length ? `pod problems: ${o.pods.problems.join('; ')}` : '',
      o.alerts.length
        ? `${o.alerts.length} alert(s): ${o.alerts.map((a) => `${a.severity} ${a.name}${a.backend_service ? ` (${a.source} service ${a.backend_service})` : ''}`).join('; ')}`
        : 'no active alerts',
      `depends on: ${o.depends_on.join(', ') || 'nothing'}; dependents: ${
        o.dependents_detail
          .map(
            (d) =>
              `${d.id} (${[d.owner ?? 'no owner', d.tier, d.alert_status === 'firing' ? `firing ×${d.alerts}` : d.alert_status].filter(Boolean).join(', ')})`,
          )
          .join(', ') || 'none'
      }`,
      ...o.holds.map((h) => `held, not offered by any tool: ${holdLine(h)}`),
      o.gaps.length
        ? `gaps: ${o.gaps.map((g) => `${g.backend}/${g.env ?? ''}: ${g.reason}`).join('; ')}`
        : '',
    ]
      .filter(Boolean)
      .join('\n'),
});
