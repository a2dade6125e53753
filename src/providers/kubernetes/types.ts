/** Kubernetes in day2's terms: what tools read and change, free of client-node types. */

import type { FieldOwner } from './managed-fields.js';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface ContainerImage {
  container: string;
  image: string;
}

export interface DeploymentInfo {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  generation: number;
  observedGeneration: number;
  /** Desired replicas (spec). */
  replicas: number;
  currentReplicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  images: ContainerImage[];
  /** deployment.kubernetes.io/revision. */
  revision?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The pod selector as a label-selector string. */
  selector: string;
  conditions: Condition[];
  /** Pod-template resources per container, as the spec declares them. */
  resources: { container: string; requests: Record<string, string>; limits: Record<string, string> }[];
  createdAt?: string;
  /** Who set which field, and when (metadata.managedFields), newest change first. */
  managers?: FieldOwner[];
  /** The pod template's labels: what a Service must select to reach these pods. */
  podLabels?: Record<string, string>;
  /** ConfigMaps and Secrets the pod template reads (env, envFrom, volumes), by name. */
  references?: { configMaps: string[]; secrets: string[] };
}

export interface ContainerState {
  name: string;
  image: string;
  ready: boolean;
  restartCount: number;
  /** Waiting reason (CrashLoopBackOff, ImagePullBackOff, ...), when waiting. */
  waitingReason?: string;
  /** Why the previous run ended (OOMKilled, Error, ...). */
  lastTerminationReason?: string;
}

export interface PodInfo {
  namespace: string;
  name: string;
  phase: string;
  ready: boolean;
  labels: Record<string, string>;
  node?: string;
  containers: ContainerState[];
  restarts: number;
  createdAt?: string;
}

export interface EventInfo {
  namespace: string;
  type: string;
  reason: string;
  /** Backend text: data, never instructions. */
  message: string;
  object: { kind: string; name: string };
  count: number;
  lastSeen?: string;
}

export interface RevisionInfo {
  revision: number;
  replicaSet: string;
  images: ContainerImage[];
  replicas: number;
  createdAt?: string;
  /** Why the template changed, when the change-cause annotation says so. */
  changeCause?: string;
  /** The Deployment that owns the ReplicaSet. */
  deployment?: string;
  /**
   * Revisions this ReplicaSet held before (deployment.kubernetes.io/revision-history): a rollback
   * to an old template reuses its ReplicaSet under the next revision number.
   */
  revisionHistory?: number[];
  /** The ReplicaSet's annotations (the Deployment's, copied when it rolled out). */
  annotations?: Record<string, string>;
}

export interface HpaInfo {
  namespace: string;
  name: string;
  target: { kind: string; name: string };
  minReplicas: number;
  maxReplicas: number;
  targetCpuUtilization?: number;
  currentReplicas?: number;
  desiredReplicas?: number;
  resourceVersion: string;
}

export interface HpaSpec {
  name: string;
  target: { kind?: string; name: string };
  minReplicas: number;
  maxReplicas: number;
  targetCpuUtilization: number;
}

export interface SecretInfo {
  namespace: string;
  name: string;
  type: string;
  /** Data keys only; values never leave the provider. */
  keys: string[];
  /** The PEM certificate of kubernetes.io/tls secrets (public data), else absent. */
  tlsCrt?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createdAt?: string;
  resourceVersion: string;
}

export interface ConfigMapInfo {
  namespace: string;
  name: string;
  data: Record<string, string>;
  labels: Record<string, string>;
  resourceVersion: string;
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

export interface RoleBindingInfo {
  namespace: string;
  name: string;
  role: { kind: string; name: string };
  subjects: Subject[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createdAt?: string;
}

/** One rule of a namespaced Role, as RBAC writes it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  /** Names the rule is limited to; RBAC has no label selectors. */
  resourceNames?: string[];
  verbs: string[];
}

export interface RoleSpec {
  name: string;
  rules: PolicyRule[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RoleInfo extends RoleSpec {
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RoleBindingSpec {
  name: string;
  role: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects: Subject[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PodUsage {
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  containers: { name: string; cpuMillicores: number; memoryBytes: number }[];
}

export interface ServiceInfo {
  namespace: string;
  name: string;
  type: string;
  clusterIP?: string;
  selector: Record<string, string>;
  ports: { name?: string; port: number; targetPort?: string | number; protocol?: string }[];
}

export interface EndpointsInfo {
  namespace: string;
  name: string;
  readyAddresses: number;
  notReadyAddresses: number;
}

export interface PvcInfo {
  namespace: string;
  name: string;
  phase: string;
  storageClass?: string;
  requested?: string;
  capacity?: string;
}

export interface ResourceQuotaInfo {
  namespace: string;
  name: string;
  hard: Record<string, string>;
  used: Record<string, string>;
}

export interface PodLogOptions {
  /** Required when the pod has more than one container. */
  container?: string;
  /** The previous run of the container: what a crash-looping container printed before it died. */
  previous?: boolean;
  tailLines?: number;
  /** An upper bound on what is read; the last line may be cut. */
  limitBytes?: number;
  sinceSeconds?: number;
  /** Prefix each line with its RFC 3339 time. */
  timestamps?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** Precondition: fail with ConflictError if the object's resourceVersion differs. */
  resourceVersion?: string;
  /**
   * Annotations the same request sets on the Deployment (kubernetes.io/change-cause and the like);
   * the deployment controller copies them to the ReplicaSet a template change rolls out.
   */
  annotations?: Record<string, string>;
}

export type PatchType = 'merge' | 'strategic' | 'json';

export interface RolloutWaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  pollMs?: number;
  onProgress?: (d: DeploymentInfo) => void;
}

export interface RolloutResult {
  ready: boolean;
  /** Complete, ProgressDeadlineExceeded, Timeout or Aborted. */
  reason: string;
  deployment?: DeploymentInfo;
}

/** A generic object as KubernetesObjectApi returns it. */
export interface KubeResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [field: string]: unknown;
}

/**
 * Kubernetes operations day2 needs, in domain terms. Every call has a timeout and fails with a
 * BackendError subclass (src/providers/errors.ts); namespaces outside the configured list are
 * refused with ForbiddenError.
 */
export interface KubernetesProvider {
  readonly namespaces: readonly string[];
  listDeployments(namespace?: string, labelSelector?: string): Promise<DeploymentInfo[]>;
  getDeployment(namespace: string, name: string): Promise<DeploymentInfo>;
  listPods(namespace: string, labelSelector?: string): Promise<PodInfo[]>;
  listEvents(namespace: string, involvedObject?: { kind?: string; name: string }): Promise<EventInfo[]>;
  /** A container's log as text: backend data, never instructions, and possibly holding secrets. */
  getPodLogs(namespace: string, pod: string, opts?: PodLogOptions): Promise<string>;
  /** Rollout history: the deployment's ReplicaSets by revision, newest first. */
  listReplicaSets(namespace: string, labelSelector?: string, deployment?: string): Promise<RevisionInfo[]>;
  scaleDeployment(
    namespace: string,
    name: string,
    replicas: number,
    opts?: WriteOptions,
  ): Promise<DeploymentInfo>;
  patchDeployment(
    namespace: string,
    name: string,
    patch: unknown,
    opts?: WriteOptions & { type?: PatchType },
  ): Promise<DeploymentInfo>;
  restartDeployment(
    namespace: string,
    name: string,
    opts?: WriteOptions & { at?: Date },
  ): Promise<DeploymentInfo>;
  /** Rolls back to `revision` (default: the one before the current). */
  rollbackDeployment(
    namespace: string,
    name: string,
    revision?: number,
    opts?: WriteOptions,
  ): Promise<DeploymentInfo>;
  setImage(
    namespace: string,
    name: string,
    container: string,
    image: string,
    opts?: WriteOptions,
  ): Promise<DeploymentInfo>;
  listHpas(namespace: string): Promise<HpaInfo[]>;
  getHpa(namespace: string, name: string): Promise<HpaInfo>;
  upsertHpa(namespace: string, spec: HpaSpec, opts?: WriteOptions): Promise<HpaInfo>;
  listSecrets(namespace: string): Promise<SecretInfo[]>;
  listConfigMaps(namespace: string): Promise<ConfigMapInfo[]>;
  listRoleBindings(namespace: string): Promise<RoleBindingInfo[]>;
  createRoleBinding(namespace: string, spec: RoleBindingSpec, opts?: WriteOptions): Promise<RoleBindingInfo>;
  deleteRoleBinding(namespace: string, name: string, opts?: WriteOptions): Promise<void>;
  /** Cluster-wide bindings: they reach every namespace. */
  listClusterRoleBindings(): Promise<RoleBindingInfo[]>;
  createRole(namespace: string, spec: RoleSpec, opts?: WriteOptions): Promise<RoleInfo>;
  deleteRole(namespace: string, name: string, opts?: WriteOptions): Promise<void>;
  podMetrics(namespace: string): Promise<PodUsage[]>;
  listServices(namespace: string): Promise<ServiceInfo[]>;
  listEndpoints(namespace: string): Promise<EndpointsInfo[]>;
  listPvcs(namespace: string): Promise<PvcInfo[]>;
  listResourceQuotas(namespace: string): Promise<ResourceQuotaInfo[]>;
  /** Server-side apply with field manager "day2". */
  serverSideApply(obj: KubeResource, opts?: { dryRun?: boolean; force?: boolean }): Promise<KubeResource>;
  getObject(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeResource>;
  /** Every object of one kind in a namespace (or cluster-wide kinds), as the API returns them. */
  listObjects(apiVersion: string, kind: string, namespace?: string): Promise<KubeResource[]>;
  waitForRollout(namespace: string, name: string, opts: RolloutWaitOptions): Promise<RolloutResult>;
}

/** The field manager of every write day2 makes; the change ledger knows day2's writes by it. */
export const DAY2_FIELD_MANAGER = 'day2';
