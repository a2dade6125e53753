import { buildCatalog } from '../../catalog/build-catalog.js';
import type { Entity } from '../../catalog/descriptor-schema.js';
import { mergeKubernetesLabels } from '../../catalog/kubernetes-labels.js';
import { createFleetSchema } from '../fleet-schema.js';
import type { FleetInput } from '../fleet-schema.js';
import { fleetWorkloads, type LoadedFleet } from '../load-fleet.js';

export interface SyntheticFleetOptions {
  services: number;
  podsPerService: number;
  /** Environments to generate; default `['prod']`. */
  envs?: string[];
  now?: Date;
}

/** A deterministic pseudo-random sequence (mulberry32), so synthetic fleets are reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number) => n.toString(16).padStart(8, '0').repeat(8);

/**
 * Generates a large, valid fleet in memory (for benchmarks and scale tests): `services` services in
 * 50 teams and 25 systems, each depending on up to three earlier services and one of the shared
 * databases, with `podsPerService` pods, a database secret, a monitor, and an alert on every 97th
 * service. Same shape as `loadFleet`'s result.
 */
export function syntheticFleet(opts: SyntheticFleetOptions): LoadedFleet {
  const now = opts.now ?? new Date();
  const envs = opts.envs ?? ['prod'];
  const rnd = random(42);
  const teams = 50;
  const systems = 25;
  const dbs = Math.max(1, Math.ceil(opts.services / 50));
  const name = (i: number) => `svc-${String(i).padStart(5, '0')}`;
  const src = 'synthetic';
  const ref = (kind: string, n: string) => ({ kind, namespace: 'default', name: n });

  const entities: Entity[] = [];
  for (let t = 0; t < teams; t++)
    entities.push({
      kind: 'group',
      source: src,
      metadata: { name: `team-${t}` },
      spec: {
        type: 'team',
        children: [],
        members: [ref('user', `user-${t}`)],
        profile: { email: `team-${t}@acme.test` },
      },
    });
  for (let s = 0; s < systems; s++)
    entities.push({
      kind: 'system',
      source: src,
      metadata: { name: `system-${s}` },
      spec: { owner: ref('group', `team-${s % teams}`) },
    });
  for (let d = 0; d < dbs; d++)
    entities.push({
      kind: 'resource',
      source: src,
      metadata: { name: `db-${d}`, annotations: { 'day2.dev/database': `db${d}` } },
      spec: { type: 'database', owner: ref('group', `team-${d % teams}`) },
    });
  const deps: string[][] = [];
  for (let i = 0; i < opts.services; i++) {
    const on = new Set<string>();
    const k = i === 0 ? 0 : Math.floor(rnd() * 4);
    for (let j = 0; j < k; j++) on.add(name(Math.floor(rnd() * i)));
    deps.push([...on]);
    entities.push({
      kind: 'component',
      source: src,
      metadata: {
        name: name(i),
        annotations: {
          'day2.dev/kubernetes-workload': `ns-${i % systems}/${name(i)}`,
          'day2.dev/secrets': `{env}/${name(i)}/db`,
          'day2.dev/tier': i % 10 === 0 ? 'critical' : 'standard',
        },
      },
      spec: {
        type: 'service',
        lifecycle: 'production',
        owner: ref('group', `team-${i % teams}`),
        system: ref('system', `system-${i % systems}`),
        dependsOn: [...deps[i]!.map((n) => ref('component', n)), ref('resource', `db-${i % dbs}`)],
      },
    });
  }

  const environments: FleetInput['environments'] = {};
  for (const env of envs) {
    const namespaces = Array.from({ length: systems }, (_, s) => `ns-${s}`);
    environments[env] = {
      tier: env === 'prod' ? 'production' : env === 'staging' ? 'staging' : 'development',
      namespaces,
      databases: Object.fromEntries(
        Array.from({ length: dbs }, (_, d) => [`db${d}`, { database: `db${d}_${env.replace(/-/g, '_')}` }]),
      ),
      deployments: Array.from({ length: opts.services }, (_, i) => ({
        namespace: `ns-${i % systems}`,
        name: name(i),
        labels: {
          'app.kubernetes.io/name': name(i),
          'app.kubernetes.io/part-of': `system-${i % systems}`,
          'day2.dev/owner': `team-${i % teams}`,
        },
        image: `registry.acme.test/synthetic/${name(i)}:1.${i % 7}.0@sha256:${hex(i)}`,
        replicas: opts.podsPerService,
        revision: 2,
        deployed: `-${1 + (i % 30)}d`,
        history: [
          {
            revision: 1,
            image: `registry.acme.test/synthetic/${name(i)}:1.0.0@sha256:${hex(i + 1)}`,
            deployed: `-${40 + (i % 30)}d`,
          },
        ],
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      })),
      secrets: {
        aws: Array.from({ length: opts.services }, (_, i) => ({
          name: `${env}/${name(i)}/db`,
          value: {
            username: `u${i}`,
            password: `synthetic-${i}`,
            host: '127.0.0.1',
            port: 5432,
            dbname: `db${i % dbs}_${env.replace(/-/g, '_')}`,
          },
          created: '-400d',
          last_rotated: `-${i % 120}d`,
          database: `db${i % dbs}`,
        })),
        k8s: [],
      },
      monitors: Array.from({ length: opts.services }, (_, i) => ({
        id: i + 1,
        name: `[${name(i)}] error ratio`,
        query: `sum(last_5m):sum:trace.http.request.errors{service:${name(i)},env:${env}}.as_count() > 10`,
        tags: [`service:${name(i)}`, `env:${env}`],
        overall_state: i % 97 === 0 ? 'Alert' : 'OK',
        thresholds: { critical: 10 },
        created: '-100d',
      })),
      alerts: Array.from({ length: Math.ceil(opts.services / 97) }, (_, k) => ({
        labels: { alertname: 'HighErrorRate', service: name(k * 97), env, severity: 'warning' },
        annotations: { summary: `${name(k * 97)} error ratio high` },
        starts_at: '-5m',
      })),
      metrics: Array.from({ length: opts.services }, (_, i) => ({
        namespace: `ns-${i % systems}`,
        deployment: name(i),
        cpu: `${10 + (i % 200)}m`,
        memory: `${100 + (i % 300)}Mi`,
      })),
    };
  }
  const fleet = createFleetSchema(now).parse({ name: 'synthetic', environments } satisfies FleetInput);
  return {
    fleet,
    catalog: mergeKubernetesLabels(buildCatalog(entities), fleetWorkloads(fleet)),
    file: '<synthetic>',
    dir: '.',
    desiredState: {},
    now,
  };
}
