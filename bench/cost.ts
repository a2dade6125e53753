/**
 * cost_report and day2_backlog over 5,000 services (10,000 pods, 25 namespaces), target <= 1 s each.
 * The fleet is src/sandbox/fleet/synthetic.ts; Kubernetes and Secrets Manager are recording fakes
 * that return that fleet precomputed (the bench measures day2's analysis, not an HTTP emulator).
 * Run: npm exec -- tsx bench/cost.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/core/clock.js';
import { configSchema } from '../src/config/schema.js';
import type { Deps } from '../src/contract/deps.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import { BackendNotConfiguredError, type Backends } from '../src/providers/backends.js';
import type {
  DeploymentInfo,
  KubeResource,
  KubernetesProvider,
  PodUsage,
  SecretInfo,
} from '../src/providers/kubernetes/types.js';
import type { SecretMetadata, SecretsManagerProvider } from '../src/providers/secrets-manager/types.js';
import { syntheticFleet } from '../src/sandbox/fleet/synthetic.js';
import { openStore } from '../src/store/open-store.js';
import {
  accessSource,
  costSource,
  credentialsSource,
  versionsSource,
} from '../src/tools/cost/backlog/sources/index.js';
import { costReport } from '../src/tools/cost/cost-report.js';
import { makeDay2Backlog } from '../src/tools/cost/day2-backlog.js';
import type { ToolContext } from '../src/contract/define-tool.js';
import { median, round } from './stats.js';

const SERVICES = 5000;
const PODS = 2;
const RUNS = 7;
const out = (line: string) => process.stdout.write(line + '\n');

const now = new Date();
const loaded = syntheticFleet({ services: SERVICES, podsPerService: PODS, envs: ['prod', 'staging'], now });

/** A KubernetesProvider over precomputed lists that counts its calls; writes are refused. */
class RecordingKubernetes {
  calls = 0;
  readonly namespaces: string[];
  private readonly deployments = new Map<string, DeploymentInfo[]>();
  private readonly raw = new Map<string, KubeResource[]>();
  private readonly usage = new Map<string, PodUsage[]>();
  private readonly secrets = new Map<string, SecretInfo[]>();

  constructor(env: string) {
    const e = loaded.fleet.environments[env]!;
    this.namespaces = e.namespaces;
    for (const ns of this.namespaces)
      for (const m of [this.deployments, this.raw, this.usage, this.secrets]) m.set(ns, []);
    e.deployments.forEach((d, i) => {
      const labels = { ...d.labels, 'app.kubernetes.io/name': d.name };
      const requests = {
        cpu: d.resources?.requests?.cpu ?? '250m',
        memory: d.resources?.requests?.memory ?? '256Mi',
      };
      this.deployments.get(d.namespace)!.push({
        namespace: d.namespace,
        name: d.name,
        uid: `u${i}`,
        resourceVersion: String(i + 1),
        generation: 2,
        observedGeneration: 2,
        replicas: d.replicas,
        currentReplicas: d.replicas,
        readyReplicas: d.replicas,
        updatedReplicas: d.replicas,
        availableReplicas: d.replicas,
        images: [
          {
            container: 'app',
            image: env === 'staging' && i % 11 === 0 ? d.image.replace(/:1\.(\d)\.0/, ':1.9.0') : d.image,
          },
        ],
        labels,
        annotations: d.annotations ?? {},
        selector: `app.kubernetes.io/name=${d.name}`,
        conditions: [],
        resources: [{ container: 'app', requests, limits: {} }],
      });
      this.raw.get(d.namespace)!.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: d.name, namespace: d.namespace },
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'app',
                  env: [
                    {
                      name: 'DB_PASSWORD',
                      valueFrom: { secretKeyRef: { name: `${d.name}-db`, key: 'password' } },
                    },
                  ],
                },
              ],
            },
          },
        },
      });
      this.secrets.get(d.namespace)!.push({
        namespace: d.namespace,
        name: `${d.name}-db`,
        type: 'Opaque',
        keys: ['password'],
        labels: {},
        annotations: {},
        resourceVersion: '1',
      });
      const metric = e.metrics.find((m) => m.deployment === d.name);
      for (let p = 0; p < d.replicas; p++)
        this.usage.get(d.namespace)!.push({
          namespace: d.namespace,
          pod: `${d.name}-abc-${p}`,
          labels,
          containers: [
            {
              name: 'app',
              cpuMillicores: i % 13 === 0 ? 3 : parseInt(metric?.cpu ?? '100', 10),
              memoryBytes: parseInt(metric?.memory ?? '128', 10) * 1024 ** 2,
            },
          ],
        });
    });
  }
  private list<T>(m: Map<string, T[]>, ns?: string): Promise<T[]> {
    this.calls++;
    return Promise.resolve(ns ? (m.get(ns) ?? []) : [...m.values()].flat());
  }
  listDeployments(ns?: string) {
    return this.list(this.deployments, ns);
  }
  podMetrics(ns: string) {
    return this.list(this.usage, ns);
  }
  listObjects(_v: string, _k: string, ns?: string) {
    return this.list(this.raw, ns);
  }
  listSecrets(ns: string) {
    return this.list(this.secrets, ns);
  }
  listPvcs() {
    this.calls++;
    return Promise.resolve([]);
  }
  listServices() {
    this.calls++;
    return Promise.resolve([]);
  }
  listEndpoints() {
    this.calls++;
    return Promise.resolve([]);
  }
  listConfigMaps() {
    this.calls++;
    return Promise.resolve([]);
  }
  listRoleBindings() {
    this.calls++;
    return Promise.resolve([]);
  }
  listHpas() {
    this.calls++;
    return Promise.resolve([]);
  }
}

function secretsFake(env: string): SecretsManagerProvider {
  const list: SecretMetadata[] = loaded.fleet.environments[env]!.secrets.aws.map((s) => ({
    name: s.name,
    arn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${s.name}`,
    tags: {},
    createdDate: s.created,
    lastRotatedDate: s.last_rotated,
    rotationEnabled: false,
    versionStages: { v1: ['AWSCURRENT'] },
  }));
  return { listSecrets: () => Promise.resolve(list) } as unknown as SecretsManagerProvider;
}

const dir = mkdtempSync(join(tmpdir(), 'day2-bench-cost-'));
const store = await openStore(join(dir, 'day2.db'));
try {
  const config = configSchema.parse({
    environments: {
      prod: { tier: 'production', kubernetes: { namespaces: loaded.fleet.environments.prod!.namespaces } },
      staging: { tier: 'staging', kubernetes: { namespaces: loaded.fleet.environments.staging!.namespaces } },
    },
  });
  const k8s = {
    prod: new RecordingKubernetes('prod'),
    staging: new RecordingKubernetes('staging'),
  } as Record<string, RecordingKubernetes>;
  const sm = { prod: secretsFake('prod'), staging: secretsFake('staging') } as Record<
    string,
    SecretsManagerProvider
  >;
  const backends = {
    has: (env: string, b: string) => (b === 'kubernetes' || b === 'secrets-manager') && env in k8s,
    kubernetes: (env: string) =>
      (k8s[env] as unknown as KubernetesProvider) ??
      (() => {
        throw new BackendNotConfiguredError('kubernetes', env);
      })(),
    secrets: (env: string) => sm[env]!,
  } as unknown as Backends;
  const deps: Deps = {
    config,
    store,
    clock: new ManualClock(now.getTime()),
    log: silentLogger,
    redactor: new Redactor(),
    backends,
    catalog: loaded.catalog,
  };
  // The export a run attached to its result (the CSV).
  let attached = '';
  const ctx: ToolContext = {
    deps,
    principal: { id: 'bench', transport: 'internal' },
    signal: new AbortController().signal,
    progress: () => Promise.resolve(),
    callId: 'bench',
    attach: (a) => void (attached = a.text),
  };
  const backlog = makeDay2Backlog([costSource, versionsSource, accessSource, credentialsSource]);

  const bench = async (label: string, fn: () => Promise<string>, target = 1000) => {
    await fn(); // warm-up
    const samples: number[] = [];
    let summary = '';
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      summary = await fn();
      samples.push(performance.now() - t);
    }
    const ms = median(samples);
    out(
      `${label}: median ${round(ms, 1)} ms, max ${round(Math.max(...samples), 1)} ms over ${RUNS} runs (${summary}) — target <= ${target} ms: ${ms <= target ? 'pass' : 'FAIL'}`,
    );
  };
  const pods = SERVICES * PODS;
  await bench(`cost_report, ${SERVICES} services, ${pods} pods, prod`, async () => {
    const r = await costReport.run({ env: 'prod' }, ctx);
    return `${r.counts.idle} idle, ${r.counts.rightsizing} over-requested, ${r.counts.orphans} orphans, saves ${r.totals.total}/month`;
  });
  await bench(
    `day2_backlog (cost, versions, access, credentials), ${SERVICES} services, prod (skew read against staging)`,
    async () => {
      const r = await backlog.run({ env: 'prod', format: 'csv' }, ctx);
      return `${r.total} items, CSV ${Math.round(Buffer.byteLength(attached) / 1024)} KiB`;
    },
  );
  await bench(`day2_backlog, both envs (${2 * SERVICES} deployments; informational)`, async () => {
    const r = await backlog.run({ format: 'csv' }, ctx);
    return `${r.total} items, CSV ${Math.round(Buffer.byteLength(attached) / 1024)} KiB`;
  });
  if (process.env.BENCH_SOURCES)
    for (const src of [costSource, versionsSource, accessSource, credentialsSource]) {
      const b = makeDay2Backlog([src]);
      await bench(`  source ${src.name}`, async () => `${(await b.run({}, ctx)).total} items`);
    }
  out(`fake Kubernetes calls: prod ${k8s.prod!.calls}, staging ${k8s.staging!.calls}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
