import type * as K8s from '@kubernetes/client-node';
import { ForbiddenError, InvalidError, NotFoundError } from '../errors.js';
import {
  toConfigMap,
  toDeployment,
  toEndpoints,
  toEvent,
  toHpa,
  toPod,
  toPodUsage,
  toPvc,
  toQuota,
  toRevision,
  toRole,
  toRoleBinding,
  toSecret,
  toService,
} from './mappers.js';
import { translateKubernetesError } from './translate-error.js';
import { DAY2_FIELD_MANAGER } from './types.js';
import type {
  DeploymentInfo,
  KubeResource,
  KubernetesProvider,
  PatchType,
  PodLogOptions,
  RolloutResult,
  RolloutWaitOptions,
  RoleSpec,
  WriteOptions,
} from './types.js';

type ClientModule = typeof K8s;
type CallOptions = K8s.ConfigurationOptions;

const FIELD_MANAGER = DAY2_FIELD_MANAGER;
/** kubectl's annotationsToSkip: a Deployment's bookkeeping, which a rollback leaves as it is. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface ClientNodeProviderOptions {
  /** Namespaces day2 may touch; empty means all. */
  namespaces: string[];
  /** Per-call timeout (default 10 s). */
  timeoutMs?: number;
}

/** KubernetesProvider over @kubernetes/client-node (built by createKubernetesProvider). */
export class ClientNodeKubernetesProvider implements KubernetesProvider {
  readonly namespaces: readonly string[];
  private readonly timeoutMs: number;
  private readonly core: K8s.CoreV1Api;
  private readonly apps: K8s.AppsV1Api;
  private readonly autoscaling: K8s.AutoscalingV2Api;
  private readonly rbac: K8s.RbacAuthorizationV1Api;
  private readonly custom: K8s.CustomObjectsApi;
  private readonly objects: K8s.KubernetesObjectApi;

  constructor(
    private readonly k8s: ClientModule,
    kc: K8s.KubeConfig,
    opts: ClientNodeProviderOptions,
  ) {
    this.namespaces = [...opts.namespaces];
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
    this.rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  }

  async listDeployments(namespace?: string, labelSelector?: string): Promise<DeploymentInfo[]> {
    const namespaces =
      namespace !== undefined
        ? [this.scope(namespace)]
        : this.namespaces.length
          ? this.namespaces
          : [undefined];
    const out: DeploymentInfo[] = [];
    for (const ns of namespaces) {
      const list = await this.call(`list deployments in ${ns ?? 'all namespaces'}`, (o) =>
        ns === undefined
          ? this.apps.listDeploymentForAllNamespaces({ labelSelector }, o)
          : this.apps.listNamespacedDeployment({ namespace: ns, labelSelector }, o),
      );
      out.push(...list.items.map(toDeployment));
    }
    return out;
  }

  async getDeployment(namespace: string, name: string): Promise<DeploymentInfo> {
    return toDeployment(await this.readDeployment(namespace, name));
  }

  async listPods(namespace: string, labelSelector?: string) {
    const list = await this.call(`list pods in ${namespace}`, (o) =>
      this.core.listNamespacedPod({ namespace: this.scope(namespace), labelSelector }, o),
    );
    return list.items.map(toPod);
  }

  async getPodLogs(namespace: string, pod: string, opts: PodLogOptions = {}): Promise<string> {
    return this.call(`read the log of pod ${pod} in ${namespace}`, (o) =>
      this.core.readNamespacedPodLog(
        {
          namespace: this.scope(namespace),
          name: pod,
          container: opts.container,
          previous: opts.previous,
          tailLines: opts.tailLines,
          limitBytes: opts.limitBytes,
          sinceSeconds: opts.sinceSeconds,
          timestamps: opts.timestamps,
        },
        o,
      ),
    );
  }

  async listEvents(namespace: string, involvedObject?: { kind?: string; name: string }) {
    const fields = involvedObject
      ? [
          `involvedObject.name=${involvedObject.name}`,
          ...(involvedObject.kind ? [`involvedObject.kind=${involvedObject.kind}`] : []),
        ].join(',')
      : undefined;
    const list = await this.call(`list events in ${namespace}`, (o) =>
      this.core.listNamespacedEvent({ namespace: this.scope(namespace), fieldSelector: fields }, o),
    );
    return list.items.map(toEvent).sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''));
  }

  async listReplicaSets(namespace: string, labelSelector?: string, deployment?: string) {
    const list = await this.call(`list replicasets in ${namespace}`, (o) =>
      this.apps.listNamespacedReplicaSet({ namespace: this.scope(namespace), labelSelector }, o),
    );
    return list.items
      .filter(
        (rs) =>
          !deployment ||
          (rs.metadata?.ownerReferences ?? []).some((r) => r.kind === 'Deployment' && r.name === deployment),
      )
      .map(toRevision)
      .sort((a, b) => b.revision - a.revision);
  }

  async scaleDeployment(namespace: string, name: string, replicas: number, opts: WriteOptions = {}) {
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new InvalidError('kubernetes', `replicas must be a whole number >= 0, got ${replicas}`);
    return this.patchDeployment(namespace, name, { spec: { replicas } }, { ...opts, type: 'merge' });
  }

  async patchDeployment(
    namespace: string,
    name: string,
    patch: unknown,
    opts: WriteOptions & { type?: PatchType } = {},
  ) {
    const type = opts.type ?? 'strategic';
    let body = withAnnotations(patch, type, opts.annotations);
    if (opts.resourceVersion) {
      // The API server compares a resourceVersion in the patched object with the live one (409 when stale).
      if (type === 'json')
        body = [
          ...(body as unknown[]),
          { op: 'replace', path: '/metadata/resourceVersion', value: opts.resourceVersion },
        ];
      else
        body = {
          ...(body as Record<string, unknown>),
          metadata: {
            ...((body as { metadata?: object }).metadata ?? {}),
            resourceVersion: opts.resourceVersion,
          },
        };
    }
    const contentType = {
      merge: this.k8s.PatchStrategy.MergePatch,
      strategic: this.k8s.PatchStrategy.StrategicMergePatch,
      json: this.k8s.PatchStrategy.JsonPatch,
    }[type];
    const d = await this.call(
      `patch deployment ${namespace}/${name}`,
      (o) =>
        this.apps.patchNamespacedDeployment(
          { name, namespace: this.scope(namespace), body, dryRun: dry(opts), fieldManager: FIELD_MANAGER },
          o,
        ),
      contentType,
    );
    return toDeployment(d);
  }

  async restartDeployment(namespace: string, name: string, opts: WriteOptions & { at?: Date } = {}) {
    const at = (opts.at ?? new Date()).toISOString();
    return this.patchDeployment(
      namespace,
      name,
      { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } },
      { ...opts, type: 'strategic' },
    );
  }

  async rollbackDeployment(namespace: string, name: string, revision?: number, opts: WriteOptions = {}) {
    const current = await this.readDeployment(namespace, name);
    const currentRev = Number(current.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    const owned = (
      await this.call(`list replicasets in ${namespace}`, (o) =>
        this.apps.listNamespacedReplicaSet({ namespace, labelSelector: selectorOf(current) }, o),
      )
    ).items.filter((rs) => (rs.metadata?.ownerReferences ?? []).some((r) => r.uid === current.metadata?.uid));
    const revOf = (rs: K8s.V1ReplicaSet) =>
      Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    const target =
      revision === undefined
        ? owned.filter((rs) => revOf(rs) < currentRev).sort((a, b) => revOf(b) - revOf(a))[0]
        : owned.find((rs) => revOf(rs) === revision);
    if (!target) {
      throw new NotFoundError(
        'kubernetes',
        revision === undefined
          ? `deployment ${namespace}/${name} has no previous revision to roll back to`
          : `deployment ${namespace}/${name} has no revision ${revision}`,
      );
    }
    if (revOf(target) === currentRev)
      throw new InvalidError(
        'kubernetes',
        `revision ${currentRev} of ${namespace}/${name} is already the current one`,
      );
    // The client's model classes use the wire names; a JSON round trip gives the plain template.
    const template = JSON.parse(JSON.stringify(target.spec?.template ?? {})) as {
      metadata?: { labels?: Record<string, string> };
    };
    if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
    // As kubectl rollout undo does: the Deployment keeps its own bookkeeping annotations and takes
    // the rest from the ReplicaSet rolled back to; the caller's (why this rollback) go over them.
    const own = current.metadata?.annotations ?? {};
    const annotations: Record<string, string> = {
      ...Object.fromEntries(Object.entries(own).filter(([k]) => NOT_COPIED.has(k))),
      ...Object.fromEntries(
        Object.entries(target.metadata?.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)),
      ),
      ...opts.annotations,
    };
    const ops = [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: annotations },
    ];
    return this.patchDeployment(namespace, name, ops, {
      ...opts,
      annotations: undefined,
      resourceVersion: opts.resourceVersion ?? current.metadata?.resourceVersion,
      type: 'json',
    });
  }

  async setImage(namespace: string, name: string, container: string, image: string, opts: WriteOptions = {}) {
    const d = await this.readDeployment(namespace, name);
    const names = (d.spec?.template?.spec?.containers ?? []).map((c) => c.name);
    if (!names.includes(container))
      throw new InvalidError(
        'kubernetes',
        `deployment ${namespace}/${name} has no container "${container}" (containers: ${names.join(', ')})`,
      );
    return this.patchDeployment(
      namespace,
      name,
      { spec: { template: { spec: { containers: [{ name: container, image }] } } } },
      { ...opts, type: 'strategic' },
    );
  }

  async listHpas(namespace: string) {
    const list = await this.call(`list HPAs in ${namespace}`, (o) =>
      this.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: this.scope(namespace) }, o),
    );
    return list.items.map(toHpa);
  }

  async getHpa(namespace: string, name: string) {
    return toHpa(
      await this.call(`read HPA ${namespace}/${name}`, (o) =>
        this.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace: this.scope(namespace) }, o),
      ),
    );
  }

  async upsertHpa(
    namespace: string,
    spec: Parameters<KubernetesProvider['upsertHpa']>[1],
    opts: WriteOptions = {},
  ) {
    const ns = this.scope(namespace);
    const body: K8s.V2HorizontalPodAutoscaler = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: {
        name: spec.name,
        namespace: ns,
        ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}),
      },
      spec: {
        scaleTargetRef: {
          apiVersion: 'apps/v1',
          kind: spec.target.kind ?? 'Deployment',
          name: spec.target.name,
        },
        minReplicas: spec.minReplicas,
        maxReplicas: spec.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: spec.targetCpuUtilization },
            },
          },
        ],
      },
    };
    const existing = await this.call(`read HPA ${ns}/${spec.name}`, (o) =>
      this.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: spec.name, namespace: ns }, o),
    ).catch((e: unknown) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
    if (!existing) {
      return toHpa(
        await this.call(`create HPA ${ns}/${spec.name}`, (o) =>
          this.autoscaling.createNamespacedHorizontalPodAutoscaler(
            { namespace: ns, body, dryRun: dry(opts), fieldManager: FIELD_MANAGER },
            o,
          ),
        ),
      );
    }
    body.metadata!.resourceVersion = opts.resourceVersion ?? existing.metadata?.resourceVersion;
    return toHpa(
      await this.call(`replace HPA ${ns}/${spec.name}`, (o) =>
        this.autoscaling.replaceNamespacedHorizontalPodAutoscaler(
          { name: spec.name, namespace: ns, body, dryRun: dry(opts), fieldManager: FIELD_MANAGER },
          o,
        ),
      ),
    );
  }

  async listSecrets(namespace: string) {
    const list = await this.call(`list secrets in ${namespace}`, (o) =>
      this.core.listNamespacedSecret({ namespace: this.scope(namespace) }, o),
    );
    return list.items.map(toSecret);
  }

  async listConfigMaps(namespace: string) {
    const list = await this.call(`list configmaps in ${namespace}`, (o) =>
      this.core.listNamespacedConfigMap({ namespace: this.scope(namespace) }, o),
    );
    return list.items.map(toConfigMap);
  }

  async listRoleBindings(namespace: string) {
    const list = await this.call(`list rolebindings in ${namespace}`, (o) =>
      this.rbac.listNamespacedRoleBinding({ namespace: this.scope(namespace) }, o),
    );
    return list.items.map(toRoleBinding);
  }

  async createRoleBinding(
    namespace: string,
    spec: Parameters<KubernetesProvider['createRoleBinding']>[1],
    opts: WriteOptions = {},
  ) {
    const ns = this.scope(namespace);
    const body: K8s.V1RoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: spec.name, namespace: ns, labels: spec.labels, annotations: spec.annotations },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: spec.role.kind, name: spec.role.name },
      subjects: spec.subjects.map((s) => ({
        kind: s.kind,
        name: s.name,
        ...(s.kind === 'ServiceAccount'
          ? { namespace: s.namespace ?? ns }
          : { apiGroup: 'rbac.authorization.k8s.io' }),
      })),
    };
    return toRoleBinding(
      await this.call(`create rolebinding ${ns}/${spec.name}`, (o) =>
        this.rbac.createNamespacedRoleBinding(
          { namespace: ns, body, dryRun: dry(opts), fieldManager: FIELD_MANAGER },
          o,
        ),
      ),
    );
  }

  async listClusterRoleBindings() {
    const list = await this.call('list clusterrolebindings', (o) => this.rbac.listClusterRoleBinding({}, o));
    return list.items.map(toRoleBinding);
  }

  async createRole(namespace: string, spec: RoleSpec, opts: WriteOptions = {}) {
    const ns = this.scope(namespace);
    const body: K8s.V1Role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: spec.name, namespace: ns, labels: spec.labels, annotations: spec.annotations },
      rules: spec.rules,
    };
    return toRole(
      await this.call(`create role ${ns}/${spec.name}`, (o) =>
        this.rbac.createNamespacedRole(
          { namespace: ns, body, dryRun: dry(opts), fieldManager: FIELD_MANAGER },
          o,
        ),
      ),
    );
  }

  async deleteRole(namespace: string, name: string, opts: WriteOptions = {}) {
    const ns = this.scope(namespace);
    await this.call(`delete role ${ns}/${name}`, (o) =>
      this.rbac.deleteNamespacedRole({ name, namespace: ns, dryRun: dry(opts) }, o),
    );
  }

  async deleteRoleBinding(namespace: string, name: string, opts: WriteOptions = {}) {
    const ns = this.scope(namespace);
    await this.call(`delete rolebinding ${ns}/${name}`, (o) =>
      this.rbac.deleteNamespacedRoleBinding(
        {
          name,
          namespace: ns,
          dryRun: dry(opts),
          ...(opts.resourceVersion
            ? { body: { preconditions: { resourceVersion: opts.resourceVersion } } }
            : {}),
        },
        o,
      ),
    );
  }

  async podMetrics(namespace: string) {
    const list = (await this.call(`read pod metrics in ${namespace}`, (o) =>
      this.custom.listNamespacedCustomObject(
        { group: 'metrics.k8s.io', version: 'v1beta1', namespace: this.scope(namespace), plural: 'pods' },
        o,
      ),
    )) as { items?: unknown[] };
    return (list.items ?? []).map((m) => toPodUsage(m as Parameters<typeof toPodUsage>[0]));
  }

  async listServices(namespace: string) {
    return (
      await this.call(`list services in ${namespace}`, (o) =>
        this.core.listNamespacedService({ namespace: this.scope(namespace) }, o),
      )
    ).items.map(toService);
  }

  async listEndpoints(namespace: string) {
    return (
      await this.call(`list endpoints in ${namespace}`, (o) =>
        this.core.listNamespacedEndpoints({ namespace: this.scope(namespace) }, o),
      )
    ).items.map(toEndpoints);
  }

  async listPvcs(namespace: string) {
    return (
      await this.call(`list PVCs in ${namespace}`, (o) =>
        this.core.listNamespacedPersistentVolumeClaim({ namespace: this.scope(namespace) }, o),
      )
    ).items.map(toPvc);
  }

  async listResourceQuotas(namespace: string) {
    return (
      await this.call(`list resource quotas in ${namespace}`, (o) =>
        this.core.listNamespacedResourceQuota({ namespace: this.scope(namespace) }, o),
      )
    ).items.map(toQuota);
  }

  async serverSideApply(
    obj: KubeResource,
    opts: { dryRun?: boolean; force?: boolean } = {},
  ): Promise<KubeResource> {
    if (obj.metadata.namespace) this.scope(obj.metadata.namespace);
    const what = `apply ${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    return this.race(what, () =>
      this.objects.patch(
        obj as K8s.KubernetesObject,
        undefined,
        opts.dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        opts.force,
        this.k8s.PatchStrategy.ServerSideApply,
      ),
    ) as Promise<KubeResource>;
  }

  async getObject(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeResource> {
    if (namespace) this.scope(namespace);
    const obj = await this.race(`read ${kind} ${namespace ?? ''}/${name}`, () =>
      this.objects.read({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } }),
    );
    return obj as KubeResource;
  }

  async listObjects(apiVersion: string, kind: string, namespace?: string): Promise<KubeResource[]> {
    if (namespace) this.scope(namespace);
    const list = await this.race(`list ${kind} in ${namespace ?? 'the cluster'}`, () =>
      this.objects.list(apiVersion, kind, namespace),
    );
    // The generic client returns model objects for known kinds: a JSON round trip gives wire names.
    return (JSON.parse(JSON.stringify(list.items ?? [])) as KubeResource[]).map((o) => ({
      ...o,
      apiVersion,
      kind,
    }));
  }

  async waitForRollout(namespace: string, name: string, opts: RolloutWaitOptions): Promise<RolloutResult> {
    const deadline = Date.now() + opts.timeoutMs;
    const pollMs = opts.pollMs ?? 200;
    let last: DeploymentInfo | undefined;
    for (;;) {
      if (opts.signal?.aborted) return { ready: false, reason: 'Aborted', deployment: last };
      last = await this.getDeployment(namespace, name);
      opts.onProgress?.(last);
      const progressing = last.conditions.find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded')
        return { ready: false, reason: 'ProgressDeadlineExceeded', deployment: last };
      if (
        last.observedGeneration >= last.generation &&
        last.updatedReplicas === last.replicas &&
        last.currentReplicas === last.replicas &&
        last.availableReplicas === last.replicas
      ) {
        return { ready: true, reason: 'Complete', deployment: last };
      }
      const wait = Math.min(pollMs, deadline - Date.now());
      if (wait <= 0) return { ready: false, reason: 'Timeout', deployment: last };
      await sleep(wait, opts.signal);
    }
  }

  private readDeployment(namespace: string, name: string): Promise<K8s.V1Deployment> {
    return this.call(`read deployment ${namespace}/${name}`, (o) =>
      this.apps.readNamespacedDeployment({ name, namespace: this.scope(namespace) }, o),
    );
  }

  /** Refuses namespaces outside the configured list. */
  private scope(namespace: string): string {
    if (this.namespaces.length > 0 && !this.namespaces.includes(namespace)) {
      throw new ForbiddenError(
        'kubernetes',
        `namespace "${namespace}" is not one of the namespaces configured for this environment (${this.namespaces.join(', ')})`,
      );
    }
    return namespace;
  }

  /**
   * Runs one generated-client call with a per-call timeout (an AbortSignal set by middleware),
   * an optional Content-Type override (patch strategies), and error translation.
   */
  private async call<T>(
    what: string,
    fn: (options: CallOptions) => Promise<T>,
    contentType?: string,
  ): Promise<T> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const marker = this.k8s.setHeaderMiddleware('X-Day2-Call', 'provider');
    const withSignal: K8s.ObservableMiddleware = {
      pre: (ctx) => {
        ctx.setSignal(signal);
        return marker.pre(ctx);
      },
      post: (res) => marker.post(res),
    };
    let options: CallOptions = { middleware: [withSignal], middlewareMergeStrategy: 'append' };
    if (contentType) options = this.k8s.setHeaderOptions('Content-Type', contentType, options);
    try {
      return await fn(options);
    } catch (err) {
      throw translateKubernetesError(err, what, this.timeoutMs);
    }
  }

  /** KubernetesObjectApi takes no per-call middleware: bound it by racing a timer instead. */
  private async race<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DOMException('timed out', 'TimeoutError')), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (err) {
      throw translateKubernetesError(err, what, this.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }
}

function dry(opts: WriteOptions): string | undefined {
  return opts.dryRun ? 'All' : undefined;
}

function selectorOf(d: K8s.V1Deployment): string {
  return Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A patch that also sets `annotations` on the object: merged into a merge or strategic patch, one
 * `add` per key in a JSON patch (a Deployment always has annotations: the controller's revision).
 */
function withAnnotations(
  patch: unknown,
  type: PatchType,
  annotations: Record<string, string> | undefined,
): unknown {
  if (!annotations || Object.keys(annotations).length === 0) return patch;
  if (type === 'json')
    return [
      ...(patch as unknown[]),
      ...Object.entries(annotations).map(([k, value]) => ({
        op: 'add',
        path: `/metadata/annotations/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        value,
      })),
    ];
  const p = patch as { metadata?: { annotations?: Record<string, string> } };
  return {
    ...p,
    metadata: { ...p.metadata, annotations: { ...p.metadata?.annotations, ...annotations } },
  };
}
