/**
 * In-process fakes of Kubernetes, Datadog and Alertmanager over a synthetic fleet's `prod`
 * environment, with an injectable latency: what bench/context.ts and bench/telemetry.ts call
 * get_service against, so that their figures are day2's own work plus the latency.
 */
import type { BackendName, Backends } from '../src/providers/backends.js';
import type { DeploymentInfo, PodInfo } from '../src/providers/kubernetes/types.js';
import type { DatadogAlert } from '../src/providers/datadog/types.js';
import type { Alert } from '../src/providers/alertmanager/types.js';
import type { LoadedFleet } from '../src/sandbox/load-fleet.js';
import { fakeProvider } from './fake-backend.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FleetBackends {
  backends: Backends;
  /** Every fake answers after this many milliseconds (default 0). */
  setLatency: (ms: number) => void;
}

export function fleetBackends(fleet: LoadedFleet): FleetBackends {
  const env = fleet.fleet.environments.prod!;
  let latencyMs = 0;
  const deployments = new Map<string, DeploymentInfo>();
  const podsBySelector = new Map<string, PodInfo[]>();
  for (const d of env.deployments) {
    const selector = `app.kubernetes.io/name=${d.selector['app.kubernetes.io/name']}`;
    deployments.set(`${d.namespace}/${d.name}`, {
      namespace: d.namespace,
      name: d.name,
      uid: `uid-${d.name}`,
      resourceVersion: '1',
      generation: 1,
      observedGeneration: 1,
      replicas: d.replicas,
      currentReplicas: d.replicas,
      readyReplicas: d.ready_replicas,
      updatedReplicas: d.replicas,
      availableReplicas: d.ready_replicas,
      images: [{ container: d.container, image: d.image }],
      revision: d.revision,
      labels: d.labels,
      annotations: {},
      selector,
      conditions: [{ type: 'Available', status: 'True' }],
      resources: [],
    });
    podsBySelector.set(
      `${d.namespace}|${selector}`,
      d.pods.map((p) => ({
        namespace: d.namespace,
        name: p.name,
        phase: p.phase,
        ready: p.ready,
        labels: p.labels,
        containers: [{ name: d.container, image: p.image, ready: p.ready, restartCount: p.restarts }],
        restarts: p.restarts,
      })),
    );
  }
  const ddAlerts: DatadogAlert[] = env.monitors
    .filter((m) => m.overall_state === 'Alert' || m.overall_state === 'Warn')
    .map((m, i) => ({
      id: `datadog:monitor:${i}`,
      monitorId: i,
      name: m.name,
      state: m.overall_state === 'Alert' ? 'alert' : 'warn',
      service: m.tags.find((t) => t.startsWith('service:'))?.slice(8) ?? null,
      env: 'prod',
      since: new Date().toISOString(),
      summary: m.message ?? '',
      tags: m.tags,
      muted: false,
      downtimes: [],
    }));
  const amAlerts: Alert[] = env.alerts.map((a, i) => ({
    fingerprint: `fp${i}`,
    labels: { ...a.labels, env: 'prod' },
    annotations: a.annotations,
    startsAt: new Date().toISOString(),
    receivers: ['null'],
    status: { state: 'active', silencedBy: [], inhibitedBy: [] },
  }));

  const kubernetes = fakeProvider<ReturnType<Backends['kubernetes']>>({
    async getDeployment(ns: string, name: string) {
      await sleep(latencyMs);
      return deployments.get(`${ns}/${name}`)!;
    },
    async listPods(ns: string, selector?: string) {
      await sleep(latencyMs);
      return podsBySelector.get(`${ns}|${selector}`) ?? [];
    },
    async listDeployments() {
      await sleep(latencyMs);
      return [...deployments.values()];
    },
  });
  const datadog = fakeProvider<ReturnType<Backends['datadog']>>({
    async activeAlerts() {
      await sleep(latencyMs);
      return ddAlerts;
    },
  });
  const alertmanager = fakeProvider<ReturnType<Backends['alertmanager']>>({
    async listAlerts() {
      await sleep(latencyMs);
      return amAlerts;
    },
  });
  const has = (e: string, b: BackendName) =>
    e === 'prod' && ['kubernetes', 'datadog', 'alertmanager'].includes(b);
  const backends = {
    has,
    kubernetes: () => kubernetes,
    datadog: () => datadog,
    alertmanager: () => alertmanager,
  } as unknown as Backends;
  return { backends, setLatency: (ms) => (latencyMs = ms) };
}
