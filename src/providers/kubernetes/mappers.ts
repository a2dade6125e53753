import { cpuMillicores, memoryBytes } from './quantity.js';
import { fieldOwners } from './managed-fields.js';
import type {
  CoreV1Event,
  V1ConfigMap,
  V1Deployment,
  V1Endpoints,
  V1LabelSelector,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodSpec,
  V1ReplicaSet,
  V1ResourceQuota,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type {
  ConfigMapInfo,
  DeploymentInfo,
  EndpointsInfo,
  EventInfo,
  HpaInfo,
  PodInfo,
  PodUsage,
  PvcInfo,
  ResourceQuotaInfo,
  RevisionInfo,
  RoleBindingInfo,
  RoleInfo,
  SecretInfo,
  ServiceInfo,
  Subject,
} from './types.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';

/** Dates arrive as Date objects from the client's deserializer; day2 speaks ISO strings. */
export function iso(d: Date | string | undefined | null): string | undefined {
  if (!d) return undefined;
  return d instanceof Date ? d.toISOString() : String(d);
}

export function selectorString(sel: V1LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'in' || op === 'notin') parts.push(`${e.key} ${op} (${(e.values ?? []).join(',')})`);
    else parts.push(op === 'exists' ? e.key : `!${e.key}`);
  }
  return parts.join(',');
}

export function toDeployment(d: V1Deployment): DeploymentInfo {
  const containers = d.spec?.template?.spec?.containers ?? [];
  const rev = d.metadata?.annotations?.[REVISION_ANNOTATION];
  return {
    namespace: d.metadata?.namespace ?? '',
    name: d.metadata?.name ?? '',
    uid: d.metadata?.uid ?? '',
    resourceVersion: d.metadata?.resourceVersion ?? '',
    generation: d.metadata?.generation ?? 0,
    observedGeneration: d.status?.observedGeneration ?? 0,
    replicas: d.spec?.replicas ?? 1,
    currentReplicas: d.status?.replicas ?? 0,
    readyReplicas: d.status?.readyReplicas ?? 0,
    updatedReplicas: d.status?.updatedReplicas ?? 0,
    availableReplicas: d.status?.availableReplicas ?? 0,
    images: containers.map((c) => ({ container: c.name, image: c.image ?? '' })),
    revision: rev === undefined ? undefined : Number(rev),
    labels: d.metadata?.labels ?? {},
    annotations: d.metadata?.annotations ?? {},
    selector: selectorString(d.spec?.selector),
    conditions: (d.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
    })),
    resources: containers.map((c) => ({
      container: c.name,
      requests: stringMap(c.resources?.requests),
      limits: stringMap(c.resources?.limits),
    })),
    createdAt: iso(d.metadata?.creationTimestamp),
    managers: fieldOwners(d.metadata?.managedFields),
    podLabels: d.spec?.template?.metadata?.labels ?? {},
    references: podReferences(d.spec?.template?.spec),
  };
}

/** The ConfigMaps and Secrets a pod spec reads by name, each once, sorted. */
function podReferences(spec: V1PodSpec | undefined): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
  }
  for (const v of spec?.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  return { configMaps: [...configMaps].sort(), secrets: [...secrets].sort() };
}

function stringMap(m: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
}

export function toPod(p: V1Pod): PodInfo {
  const containers = (p.status?.containerStatuses ?? []).map((c) => ({
    name: c.name,
    image: c.image,
    ready: c.ready,
    restartCount: c.restartCount,
    waitingReason: c.state?.waiting?.reason,
    lastTerminationReason: c.lastState?.terminated?.reason,
  }));
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    phase: p.status?.phase ?? 'Unknown',
    ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    labels: p.metadata?.labels ?? {},
    node: p.spec?.nodeName,
    containers,
    restarts: containers.reduce((n, c) => n + c.restartCount, 0),
    createdAt: iso(p.metadata?.creationTimestamp),
  };
}

export function toEvent(e: CoreV1Event): EventInfo {
  return {
    namespace: e.metadata?.namespace ?? '',
    type: e.type ?? 'Normal',
    reason: e.reason ?? '',
    message: e.message ?? '',
    object: { kind: e.involvedObject?.kind ?? '', name: e.involvedObject?.name ?? '' },
    count: e.count ?? 1,
    lastSeen: iso(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp),
  };
}

export function toRevision(rs: V1ReplicaSet): RevisionInfo {
  return {
    revision: Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0),
    replicaSet: rs.metadata?.name ?? '',
    images: (rs.spec?.template?.spec?.containers ?? []).map((c) => ({
      container: c.name,
      image: c.image ?? '',
    })),
    replicas: rs.status?.replicas ?? 0,
    createdAt: iso(rs.metadata?.creationTimestamp),
    changeCause: rs.metadata?.annotations?.['kubernetes.io/change-cause'],
    deployment: rs.metadata?.ownerReferences?.find((o) => o.kind === 'Deployment' && o.controller !== false)
      ?.name,
    revisionHistory: (rs.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION] ?? '')
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0),
    annotations: rs.metadata?.annotations ?? {},
  };
}

export function toHpa(h: V2HorizontalPodAutoscaler): HpaInfo {
  const cpu = (h.spec?.metrics ?? []).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  return {
    namespace: h.metadata?.namespace ?? '',
    name: h.metadata?.name ?? '',
    target: { kind: h.spec?.scaleTargetRef.kind ?? '', name: h.spec?.scaleTargetRef.name ?? '' },
    minReplicas: h.spec?.minReplicas ?? 1,
    maxReplicas: h.spec?.maxReplicas ?? 0,
    targetCpuUtilization: cpu?.resource?.target.averageUtilization,
    currentReplicas: h.status?.currentReplicas,
    desiredReplicas: h.status?.desiredReplicas,
    resourceVersion: h.metadata?.resourceVersion ?? '',
  };
}

/** Keys and type only; the TLS certificate (public) is the one value that is kept. */
export function toSecret(s: V1Secret): SecretInfo {
  const info: SecretInfo = {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    type: s.type ?? 'Opaque',
    keys: Object.keys({ ...(s.data ?? {}), ...(s.stringData ?? {}) }).sort(),
    labels: s.metadata?.labels ?? {},
    annotations: s.metadata?.annotations ?? {},
    createdAt: iso(s.metadata?.creationTimestamp),
    resourceVersion: s.metadata?.resourceVersion ?? '',
  };
  const crt = s.data?.['tls.crt'];
  if (s.type === 'kubernetes.io/tls' && crt) info.tlsCrt = Buffer.from(crt, 'base64').toString('utf8');
  return info;
}

export function toConfigMap(c: V1ConfigMap): ConfigMapInfo {
  return {
    namespace: c.metadata?.namespace ?? '',
    name: c.metadata?.name ?? '',
    data: c.data ?? {},
    labels: c.metadata?.labels ?? {},
    resourceVersion: c.metadata?.resourceVersion ?? '',
  };
}

export function toRoleBinding(rb: V1RoleBinding): RoleBindingInfo {
  return {
    namespace: rb.metadata?.namespace ?? '',
    name: rb.metadata?.name ?? '',
    role: { kind: rb.roleRef.kind, name: rb.roleRef.name },
    subjects: (rb.subjects ?? []).map((s) => ({
      kind: s.kind as Subject['kind'],
      name: s.name,
      ...(s.namespace ? { namespace: s.namespace } : {}),
    })),
    labels: rb.metadata?.labels ?? {},
    annotations: rb.metadata?.annotations ?? {},
    createdAt: iso(rb.metadata?.creationTimestamp),
  };
}

export function toService(s: V1Service): ServiceInfo {
  return {
    namespace: s.metadata?.namespace ?? '',
    name: s.metadata?.name ?? '',
    type: s.spec?.type ?? 'ClusterIP',
    clusterIP: s.spec?.clusterIP,
    selector: s.spec?.selector ?? {},
    ports: (s.spec?.ports ?? []).map((p) => ({
      name: p.name,
      port: p.port,
      targetPort: p.targetPort,
      protocol: p.protocol,
    })),
  };
}

export function toEndpoints(e: V1Endpoints): EndpointsInfo {
  const subsets = e.subsets ?? [];
  return {
    namespace: e.metadata?.namespace ?? '',
    name: e.metadata?.name ?? '',
    readyAddresses: subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0),
    notReadyAddresses: subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0),
  };
}

export function toPvc(p: V1PersistentVolumeClaim): PvcInfo {
  return {
    namespace: p.metadata?.namespace ?? '',
    name: p.metadata?.name ?? '',
    phase: p.status?.phase ?? 'Pending',
    storageClass: p.spec?.storageClassName,
    requested:
      p.spec?.resources?.requests?.storage === undefined
        ? undefined
        : String(p.spec.resources.requests.storage),
    capacity: p.status?.capacity?.storage === undefined ? undefined : String(p.status.capacity.storage),
  };
}

export function toQuota(q: V1ResourceQuota): ResourceQuotaInfo {
  return {
    namespace: q.metadata?.namespace ?? '',
    name: q.metadata?.name ?? '',
    hard: stringMap(q.status?.hard ?? q.spec?.hard),
    used: stringMap(q.status?.used),
  };
}

interface RawPodMetrics {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  containers?: { name: string; usage?: { cpu?: string; memory?: string } }[];
}

export function toPodUsage(m: RawPodMetrics): PodUsage {
  return {
    namespace: m.metadata?.namespace ?? '',
    pod: m.metadata?.name ?? '',
    labels: m.metadata?.labels ?? {},
    containers: (m.containers ?? []).map((c) => ({
      name: c.name,
      cpuMillicores: cpuMillicores(c.usage?.cpu),
      memoryBytes: memoryBytes(c.usage?.memory),
    })),
  };
}

export function toRole(r: V1Role): RoleInfo {
  return {
    namespace: r.metadata?.namespace ?? '',
    name: r.metadata?.name ?? '',
    rules: (r.rules ?? []).map((x) => ({
      apiGroups: x.apiGroups ?? [],
      resources: x.resources ?? [],
      ...(x.resourceNames ? { resourceNames: x.resourceNames } : {}),
      verbs: x.verbs,
    })),
    labels: r.metadata?.labels ?? {},
    annotations: r.metadata?.annotations ?? {},
  };
}
