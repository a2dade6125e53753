import { createHash } from 'node:crypto';
import { imageWithoutDigest } from '../fleet-schema.js';
import type { Fleet, FleetDeployment, FleetEnvironment, FleetPod } from '../fleet-schema.js';
import { applyDefaults } from '../kubernetes/admission.js';
import { FieldManagers } from '../kubernetes/managed-fields.js';
import { findByKind } from '../kubernetes/resources.js';
import { ownerRef, REVISION, templateHash } from '../kubernetes/rollout-controller.js';
import type { KubeObject } from '../kubernetes/types.js';

/**
 * Fleet environment → the Kubernetes objects of its cluster: namespaces, deployments with their
 * rollout history (ReplicaSets), pods with the status the fleet describes, recent events, HPAs,
 * secrets, config maps, services and endpoints, PVCs, role bindings and pod metrics.
 *
 * The current ReplicaSet carries the pod-template-hash the emulator's rollout controller computes
 * for the deployment's (defaulted) template, so the controller adopts the seeded objects instead
 * of rolling out again.
 */

const DEPLOYMENT = findByKind('apps/v1', 'Deployment')!;
const HASH_LABEL = 'pod-template-hash';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** Real clusters keep events for an hour; older fleet facts leave no event. */
const EVENT_TTL_MS = 3_600_000;

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function uidOf(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('/')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function hexOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function clusterIpOf(text: string): string {
  const b = createHash('sha256').update(text).digest();
  return `172.20.${b[0]!}.${(b[1]! % 250) + 2}`;
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function container(d: FleetDeployment, image: string): Record<string, unknown> {
  const env = d.env.map((v) =>
    v.value !== undefined
      ? { name: v.name, value: v.value }
      : v.secret_key_ref
        ? {
            name: v.name,
            valueFrom: { secretKeyRef: { name: v.secret_key_ref.name, key: v.secret_key_ref.key } },
          }
        : {
            name: v.name,
            valueFrom: {
              configMapKeyRef: { name: v.config_map_key_ref!.name, key: v.config_map_key_ref!.key },
            },
          },
  );
  const envFrom = d.env_from.map((e) =>
    e.secret !== undefined ? { secretRef: { name: e.secret } } : { configMapRef: { name: e.config_map! } },
  );
  const limits: Record<string, string> = {};
  if (d.resources.limits.cpu !== undefined) limits.cpu = d.resources.limits.cpu;
  if (d.resources.limits.memory !== undefined) limits.memory = d.resources.limits.memory;
  return {
    name: d.container,
    image,
    ports: [{ name: 'http', containerPort: d.port, protocol: 'TCP' }],
    ...(env.length ? { env } : {}),
    ...(envFrom.length ? { envFrom } : {}),
    resources: {
      requests: { cpu: d.resources.requests.cpu, memory: d.resources.requests.memory },
      ...(Object.keys(limits).length ? { limits } : {}),
    },
    ...(d.volumes.length
      ? {
          volumeMounts: d.volumes.map((v) => ({
            name: v.name,
            mountPath: v.mount_path,
            readOnly: v.read_only,
          })),
        }
      : {}),
  };
}

function podSpec(d: FleetDeployment, image: string): Record<string, unknown> {
  const volumes = d.volumes.map((v) =>
    v.secret !== undefined
      ? { name: v.name, secret: { secretName: v.secret, defaultMode: 420 } }
      : v.config_map !== undefined
        ? { name: v.name, configMap: { name: v.config_map, defaultMode: 420 } }
        : { name: v.name, persistentVolumeClaim: { claimName: v.pvc!, readOnly: v.read_only } },
  );
  return { containers: [container(d, image)], ...(volumes.length ? { volumes } : {}) };
}

function templateLabels(d: FleetDeployment, image: string): Record<string, string> {
  const labels: Record<string, string> = { ...d.labels };
  // A version label follows the image, as charts write it.
  if (labels['app.kubernetes.io/version'] !== undefined) {
    const tag = imageWithoutDigest(image).split(':').pop();
    if (tag) labels['app.kubernetes.io/version'] = tag;
  }
  return labels;
}

/** The deployment as the API server stores it (defaults applied), and its template hash. */
function deploymentObject(envName: string, d: FleetDeployment, firstDeployed: Date): KubeObject {
  const annotations: Record<string, string> = { ...d.annotations, [REVISION]: String(d.revision) };
  if (d.change_cause) annotations[CHANGE_CAUSE] = d.change_cause;
  const obj: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: d.name,
      namespace: d.namespace,
      uid: uidOf(envName, 'deployment', d.namespace, d.name),
      generation: d.history.length + 1,
      creationTimestamp: iso(firstDeployed),
      labels: { ...d.labels },
      annotations,
    },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: { ...d.selector } },
      template: { metadata: { labels: templateLabels(d, d.image) }, spec: podSpec(d, d.image) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
  applyDefaults(DEPLOYMENT, obj);
  return obj;
}

/** The field manager of a deployment's rollouts, as its managed-by label suggests (see the fleet schema). */
function primaryManager(d: FleetDeployment): string {
  if (d.manager) return d.manager;
  const labels: Record<string, string> = d.labels;
  const by = (labels['app.kubernetes.io/managed-by'] ?? '').toLowerCase();
  return by === 'argocd' ? 'argocd-controller' : by === 'helm' ? 'helm' : 'kubectl-client-side-apply';
}

/**
 * metadata.managedFields of a seeded deployment, as a real API server would have recorded them:
 * the manager that rolled out the current revision owns what it set, the deployment controller
 * owns the revision annotation, and a hand edit owns the fields it changed, at its own time.
 */
function managedFieldsOf(d: FleetDeployment, obj: KubeObject): unknown[] {
  const m = new FieldManagers();
  const applied = structuredClone(obj);
  delete applied.metadata.annotations?.[REVISION];
  const before = d.edited ? beforeEdit(applied, d) : applied;
  m.recordUpdate(primaryManager(d), 'apps/v1', iso(d.deployed), undefined, before);
  m.recordUpdate('kube-controller-manager', 'apps/v1', iso(d.deployed), applied, obj);
  if (d.edited) m.recordUpdate(d.edited.manager, 'apps/v1', iso(d.edited.at), before, applied);
  return m.render();
}

/** The deployment as it was before its hand edit: the edited fields back to what `edited.was` says. */
function beforeEdit(obj: KubeObject, d: FleetDeployment): KubeObject {
  const was = d.edited!.was;
  const o = structuredClone(obj);
  const spec = o.spec as { replicas: number; template: { spec: { containers: { env?: EnvVar[] }[] } } };
  if (was.replicas !== undefined) spec.replicas = was.replicas;
  const c = spec.template.spec.containers[0]!;
  for (const [name, value] of Object.entries(was.env ?? {})) {
    const rest = (c.env ?? []).filter((e) => e.name !== name);
    c.env = value === null ? rest : [...rest, { name, value }];
  }
  const annotations = { ...o.metadata.annotations };
  for (const [k, v] of Object.entries(was.annotations ?? {}))
    if (v === null) delete annotations[k];
    else annotations[k] = v;
  o.metadata.annotations = annotations;
  return o;
}

type EnvVar = { name: string; value?: string };

function replicaSet(
  deployment: KubeObject,
  d: FleetDeployment,
  rev: { revision: number; image: string; deployed: Date; change_cause?: string },
  replicas: number,
  template: Record<string, unknown>,
  hash: string,
): KubeObject {
  const tmpl = structuredClone(template) as { metadata: { labels: Record<string, string> } };
  tmpl.metadata.labels = { ...tmpl.metadata.labels, [HASH_LABEL]: hash };
  const annotations: Record<string, string> = {
    'deployment.kubernetes.io/desired-replicas': String(d.replicas),
    'deployment.kubernetes.io/max-replicas': String(d.replicas + Math.ceil(d.replicas / 4)),
    [REVISION]: String(rev.revision),
  };
  if (rev.change_cause) annotations[CHANGE_CAUSE] = rev.change_cause;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.name}-${hash}`,
      namespace: d.namespace,
      uid: uidOf(deployment.metadata.uid!, 'rs', hash),
      generation: 1,
      creationTimestamp: iso(rev.deployed),
      labels: { ...tmpl.metadata.labels },
      annotations,
      ownerReferences: [ownerRef(deployment)],
    },
    spec: {
      replicas,
      selector: { matchLabels: { ...d.selector, [HASH_LABEL]: hash } },
      template: tmpl,
    },
    status: { replicas: 0, observedGeneration: 1 },
  };
}

interface SeededPod {
  pod: KubeObject;
  fleet: FleetPod;
}

function podObject(d: FleetDeployment, p: FleetPod, rs: KubeObject, hash: string): KubeObject {
  const prefix = `${d.name}-${d.pod_template_hash}-`;
  const name = p.name.startsWith(prefix) ? `${d.name}-${hash}-${p.name.slice(prefix.length)}` : p.name;
  const started = iso(p.started);
  const lastRestart = iso(p.last_restart ?? p.started);
  const running = p.phase === 'Running';
  const waitingReasons = [
    'CrashLoopBackOff',
    'ImagePullBackOff',
    'ErrImagePull',
    'CreateContainerConfigError',
    'ContainerCreating',
  ];
  const waiting = p.reason !== undefined && waitingReasons.includes(p.reason);
  const terminatedReason =
    p.reason === 'OOMKilled' ? 'OOMKilled' : p.reason === 'CrashLoopBackOff' ? 'Error' : undefined;
  const state: Record<string, unknown> = waiting
    ? {
        waiting: {
          reason: p.reason,
          message:
            p.reason === 'CrashLoopBackOff'
              ? `back-off ${Math.min(300, 10 * 2 ** Math.min(Math.max(p.restarts, 1) - 1, 5))}s restarting failed container=${d.container} pod=${name}_${d.namespace}(${uidOf(rs.metadata.uid!, name)})`
              : (p.message ?? p.reason),
        },
      }
    : running
      ? { running: { startedAt: p.restarts > 0 ? lastRestart : started } }
      : p.phase === 'Pending'
        ? { waiting: { reason: p.reason ?? 'ContainerCreating' } }
        : {
            terminated: {
              exitCode: p.phase === 'Succeeded' ? 0 : 1,
              reason: p.reason ?? (p.phase === 'Succeeded' ? 'Completed' : 'Error'),
              startedAt: started,
              finishedAt: lastRestart,
            },
          };
  const lastState =
    terminatedReason !== undefined || (p.restarts > 0 && p.last_restart !== undefined)
      ? {
          terminated: {
            exitCode: terminatedReason === 'OOMKilled' ? 137 : 1,
            reason: terminatedReason ?? 'Error',
            ...(p.message ? { message: p.message } : {}),
            startedAt: started,
            finishedAt: lastRestart,
            containerID: `containerd://${hexOf(`${name}/${p.restarts}`)}`,
          },
        }
      : {};
  const ready = p.ready && running;
  const cond = (type: string, status: boolean, at: string) => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: at,
    ...(status || type === 'PodScheduled' || type === 'Initialized'
      ? {}
      : { reason: 'ContainersNotReady', message: `containers with unready status: [${d.container}]` }),
  });
  const scheduled = p.phase !== 'Pending' || p.node !== undefined;
  const readyAt = ready ? (p.restarts > 0 ? lastRestart : started) : lastRestart;
  const spec = structuredClone((rs.spec as { template: { spec: Record<string, unknown> } }).template.spec);
  (spec.containers as Record<string, unknown>[])[0]!.image = p.image;
  spec.nodeName = p.node;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${rs.metadata.name}-`,
      namespace: d.namespace,
      uid: uidOf(rs.metadata.uid!, name),
      creationTimestamp: started,
      labels: {
        ...(rs.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata
          .labels,
      },
      ownerReferences: [ownerRef(rs)],
    },
    spec,
    status: {
      phase: p.phase,
      conditions: [
        cond('PodScheduled', scheduled, started),
        cond('Initialized', scheduled, started),
        cond('ContainersReady', ready, readyAt),
        cond('Ready', ready, readyAt),
      ],
      hostIP: `10.0.${parseInt(hexOf(p.node ?? 'node').slice(0, 2), 16)}.10`,
      ...(p.phase !== 'Pending' ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      startTime: started,
      qosClass: qosClass(d),
      containerStatuses: [
        {
          name: d.container,
          image: imageWithoutDigest(p.image),
          imageID: p.image.includes('@') ? p.image : `${p.image}@sha256:${hexOf(p.image)}`,
          ...(p.phase !== 'Pending'
            ? { containerID: `containerd://${hexOf(`${name}/${d.container}`)}` }
            : {}),
          ready,
          started: running && !waiting,
          restartCount: p.restarts,
          state,
          lastState,
        },
      ],
    },
  };
}

function qosClass(d: FleetDeployment): string {
  const { requests, limits } = d.resources;
  return limits.cpu === requests.cpu && limits.memory === requests.memory ? 'Guaranteed' : 'Burstable';
}

function eventObject(
  involved: KubeObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
  first: Date,
  last: Date,
  count: number,
): KubeObject {
  const ns = involved.metadata.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${involved.metadata.name}.${hexOf(`${involved.metadata.uid}/${reason}/${message}`).slice(0, 16)}`,
      namespace: ns,
      creationTimestamp: iso(first),
    },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      namespace: ns,
      name: involved.metadata.name,
      uid: involved.metadata.uid,
    },
    reason,
    message,
    source: {
      component,
      ...(component === 'kubelet'
        ? { host: (involved.spec as { nodeName?: string } | undefined)?.nodeName ?? 'node' }
        : {}),
    },
    firstTimestamp: iso(first),
    lastTimestamp: iso(last),
    count,
    type,
    reportingComponent: component,
    reportingInstance: '',
  };
}

function deploymentStatus(
  d: FleetDeployment,
  rsName: string,
  pods: FleetPod[],
  deployed: Date,
): Record<string, unknown> {
  const ready = pods.filter((p) => p.ready && p.phase === 'Running').length;
  const desired = d.replicas;
  const complete = ready === desired && pods.length === desired;
  const at = iso(deployed);
  const maxUnavailable = Math.floor((25 * desired) / 100);
  const available = ready >= desired - maxUnavailable;
  return {
    observedGeneration: d.history.length + 1,
    replicas: pods.length,
    updatedReplicas: pods.length,
    ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
    ...(pods.length - ready > 0 ? { unavailableReplicas: pods.length - ready } : {}),
    conditions: [
      {
        type: 'Available',
        status: available ? 'True' : 'False',
        lastUpdateTime: at,
        lastTransitionTime: at,
        reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message: available
          ? 'Deployment has minimum availability.'
          : 'Deployment does not have minimum availability.',
      },
      complete
        ? {
            type: 'Progressing',
            status: 'True',
            lastUpdateTime: at,
            lastTransitionTime: at,
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${rsName}" has successfully progressed.`,
          }
        : {
            type: 'Progressing',
            status: 'True',
            lastUpdateTime: at,
            lastTransitionTime: at,
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${rsName}" is progressing.`,
          },
    ],
  };
}

function workloadObjects(
  envName: string,
  env: FleetEnvironment,
  d: FleetDeployment,
  now: Date,
): KubeObject[] {
  const firstDeployed = [d.deployed, ...d.history.map((h) => h.deployed)].reduce((a, b) => (a < b ? a : b));
  const deployment = deploymentObject(envName, d, firstDeployed);
  deployment.metadata.managedFields = managedFieldsOf(d, deployment);
  const spec = deployment.spec as { template: Record<string, unknown> };
  const hash = templateHash(spec.template);
  const current = replicaSet(
    deployment,
    d,
    { revision: d.revision, image: d.image, deployed: d.deployed, change_cause: d.change_cause },
    d.replicas,
    spec.template,
    hash,
  );
  const out: KubeObject[] = [];
  const hashes = new Set([hash]);
  for (const h of d.history) {
    const tmpl = structuredClone(spec.template) as {
      metadata: { labels: Record<string, string> };
      spec: { containers: { image: string }[] };
    };
    tmpl.metadata.labels = templateLabels(d, h.image);
    tmpl.spec.containers[0]!.image = h.image;
    const hh = templateHash(tmpl);
    // The same template twice is one ReplicaSet in Kubernetes; the newest revision keeps it.
    if (hashes.has(hh)) continue;
    hashes.add(hh);
    out.push(replicaSet(deployment, d, h, 0, tmpl, hh));
  }
  const seeded: SeededPod[] = d.pods.map((p) => ({ fleet: p, pod: podObject(d, p, current, hash) }));
  const ready = seeded.filter((s) => s.fleet.ready && s.fleet.phase === 'Running').length;
  current.status = {
    replicas: seeded.length,
    fullyLabeledReplicas: seeded.length,
    observedGeneration: 1,
    ...(ready > 0 ? { readyReplicas: ready, availableReplicas: ready } : {}),
  };
  deployment.status = deploymentStatus(d, current.metadata.name, d.pods, d.deployed);
  out.unshift(deployment, current);
  out.push(...seeded.map((s) => s.pod));

  // Events of the last hour: the rollout that made the current revision, and failing pods.
  const recent = (t: Date) => now.getTime() - t.getTime() <= EVENT_TTL_MS;
  if (recent(d.deployed))
    out.push(
      eventObject(
        deployment,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${current.metadata.name} to ${d.replicas}`,
        'deployment-controller',
        d.deployed,
        d.deployed,
        1,
      ),
    );
  for (const { pod, fleet: p } of seeded) {
    const last = p.last_restart ?? p.started;
    if (!recent(last)) continue;
    const kubelet = (
      type: 'Normal' | 'Warning',
      reason: string,
      message: string,
      first = p.started,
      count = p.restarts,
    ) => eventObject(pod, type, reason, message, 'kubelet', first, last, Math.max(1, count));
    const restartBackOff = `Back-off restarting failed container ${d.container} in pod ${pod.metadata.name}_${d.namespace}(${pod.metadata.uid})`;
    if (p.reason === 'CrashLoopBackOff') out.push(kubelet('Warning', 'BackOff', restartBackOff));
    if (p.reason === 'ImagePullBackOff' || p.reason === 'ErrImagePull')
      out.push(
        kubelet('Warning', 'Failed', `Failed to pull image "${p.image}": ${p.message ?? 'not found'}`),
        kubelet('Normal', 'BackOff', `Back-off pulling image "${p.image}"`),
      );
    if (p.reason === 'OOMKilled') out.push(kubelet('Warning', 'BackOff', restartBackOff, last, 1));
  }

  // Pod metrics (metrics.k8s.io) for running pods with fleet usage.
  const metric = env.metrics.find((m) => m.namespace === d.namespace && m.deployment === d.name);
  if (metric) {
    for (const { pod, fleet: p } of seeded) {
      if (p.phase !== 'Running') continue;
      out.push({
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'PodMetrics',
        metadata: {
          name: pod.metadata.name,
          namespace: d.namespace,
          labels: pod.metadata.labels ?? {},
          creationTimestamp: iso(now),
        },
        timestamp: iso(now),
        window: '15s',
        containers: [{ name: d.container, usage: { cpu: metric.cpu, memory: metric.memory } }],
      });
    }
  }
  return out;
}

/** Every Kubernetes object of one fleet environment, ready for startKubernetesEmulator({objects}). */
export function kubernetesObjects(envName: string, env: FleetEnvironment, now: Date): KubeObject[] {
  const out: KubeObject[] = env.namespaces.map((ns) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      uid: uidOf(envName, 'ns', ns),
      labels: { 'kubernetes.io/metadata.name': ns, 'day2.dev/env': envName },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  }));
  const podNames = new Map<string, string>();
  for (const d of env.deployments) {
    const objs = workloadObjects(envName, env, d, now);
    out.push(...objs);
    const pods = objs.filter((o) => o.kind === 'Pod');
    d.pods.forEach((p, i) => podNames.set(`${d.namespace}/${p.name}`, pods[i]!.metadata.name));
  }
  const deploymentReplicas = new Map(env.deployments.map((d) => [`${d.namespace}/${d.name}`, d.replicas]));
  for (const h of env.hpas) {
    const replicas = deploymentReplicas.get(`${h.namespace}/${h.target}`) ?? h.min_replicas;
    out.push({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: {
        name: h.name,
        namespace: h.namespace,
        uid: uidOf(envName, 'hpa', h.namespace, h.name),
        generation: 1,
      },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: h.target },
        minReplicas: h.min_replicas,
        maxReplicas: h.max_replicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: h.cpu_target_percent },
            },
          },
        ],
      },
      status: {
        observedGeneration: 1,
        currentReplicas: replicas,
        desiredReplicas: replicas,
        ...(h.current_cpu_percent !== undefined
          ? {
              currentMetrics: [
                {
                  type: 'Resource',
                  resource: { name: 'cpu', current: { averageUtilization: h.current_cpu_percent } },
                },
              ],
            }
          : {}),
        conditions: [
          {
            type: 'AbleToScale',
            status: 'True',
            reason: 'ReadyForNewScale',
            message: 'recommended size matches current size',
          },
          {
            type: 'ScalingActive',
            status: 'True',
            reason: 'ValidMetricFound',
            message:
              'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
          },
        ],
      },
    });
  }
  for (const s of env.secrets.k8s)
    out.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: s.name,
        namespace: s.namespace,
        uid: uidOf(envName, 'secret', s.namespace, s.name),
        creationTimestamp: iso(s.created),
        labels: { ...s.labels },
        annotations: { ...s.annotations },
      },
      type: s.type,
      data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, b64(v)])),
    });
  for (const c of env.configmaps)
    out.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: c.name,
        namespace: c.namespace,
        uid: uidOf(envName, 'cm', c.namespace, c.name),
        creationTimestamp: iso(c.created),
        labels: { ...c.labels },
      },
      data: { ...c.data },
    });
  for (const s of env.services) {
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: s.name,
        namespace: s.namespace,
        uid: uidOf(envName, 'svc', s.namespace, s.name),
        labels: { ...s.labels },
      },
      spec: {
        type: s.type,
        selector: { ...s.selector },
        clusterIP: clusterIpOf(`${envName}/${s.namespace}/${s.name}`),
        ports: s.ports.map((p) => ({
          name: `p${p.port}`,
          protocol: 'TCP',
          port: p.port,
          targetPort: p.target_port,
        })),
        sessionAffinity: 'None',
      },
      status: { loadBalancer: {} },
    });
    out.push({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name: s.name,
        namespace: s.namespace,
        uid: uidOf(envName, 'ep', s.namespace, s.name),
        labels: { ...s.labels },
      },
      ...(s.endpoints.length
        ? {
            subsets: [
              {
                addresses: s.endpoints.map((e) => ({
                  ip: e.ip,
                  targetRef: {
                    kind: 'Pod',
                    namespace: s.namespace,
                    name: podNames.get(`${s.namespace}/${e.pod}`) ?? e.pod,
                  },
                })),
                ports: s.ports.map((p) => ({ name: `p${p.port}`, port: p.target_port, protocol: 'TCP' })),
              },
            ],
          }
        : {}),
    });
  }
  for (const p of env.pvcs)
    out.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: uidOf(envName, 'pvc', p.namespace, p.name),
        creationTimestamp: iso(p.created),
      },
      spec: {
        accessModes: [...p.access_modes],
        resources: { requests: { storage: p.storage } },
        storageClassName: p.storage_class,
        volumeMode: 'Filesystem',
        ...(p.phase === 'Bound' ? { volumeName: `pvc-${uidOf(envName, 'pv', p.namespace, p.name)}` } : {}),
      },
      status:
        p.phase === 'Bound'
          ? { phase: 'Bound', accessModes: [...p.access_modes], capacity: { storage: p.storage } }
          : { phase: p.phase },
    });
  for (const r of env.rolebindings)
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: r.name,
        namespace: r.namespace,
        uid: uidOf(envName, 'rb', r.namespace, r.name),
        creationTimestamp: iso(r.created),
        labels: { ...r.labels },
        annotations: { ...r.annotations },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: r.role.kind, name: r.role.name },
      subjects: r.subjects.map((s) =>
        s.kind === 'ServiceAccount'
          ? { kind: s.kind, name: s.name, namespace: s.namespace ?? r.namespace }
          : { kind: s.kind, name: s.name, apiGroup: 'rbac.authorization.k8s.io' },
      ),
    });
  return out;
}

/**
 * Images the emulator makes crash-loop when rolled out: the fleet's `crashloop` bad images, both
 * as `repo:tag` and with every digest the fleet pairs with that tag.
 */
/**
 * What each crash-looping image prints before it exits, keyed by image without digest: the message
 * a fleet pod running it gives, else the fleet's reason for the bad image.
 */
export function crashMessages(fleet: Fleet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const b of fleet.bad_images)
    if (b.effect === 'crashloop') out[imageWithoutDigest(b.image)] = `fatal: ${b.reason}`;
  for (const env of Object.values(fleet.environments))
    for (const d of env.deployments)
      for (const p of d.pods) {
        const img = imageWithoutDigest(p.image ?? d.image);
        if (p.message && p.reason === 'CrashLoopBackOff' && img in out) out[img] = p.message;
      }
  return out;
}

/** What a bad image that serves errors logs while it runs, keyed by image without digest. */
export function errorMessages(fleet: Fleet): Record<string, string> {
  return Object.fromEntries(
    fleet.bad_images.filter((b) => b.effect === 'errors').map((b) => [imageWithoutDigest(b.image), b.reason]),
  );
}

export function crashingImages(fleet: Fleet): string[] {
  const bad = new Set(
    fleet.bad_images.filter((b) => b.effect === 'crashloop').map((b) => imageWithoutDigest(b.image)),
  );
  const out = new Set(bad);
  for (const env of Object.values(fleet.environments))
    for (const d of env.deployments)
      for (const img of [d.image, ...d.history.map((h) => h.image), ...d.pods.map((p) => p.image)])
        if (bad.has(imageWithoutDigest(img))) out.add(img);
  return [...out];
}
