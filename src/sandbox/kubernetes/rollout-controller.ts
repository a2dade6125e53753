import { createHash, randomBytes } from 'node:crypto';
import { HpaController } from './hpa-controller.js';
import type { ObjectStore } from './object-store.js';
import { findByKind, type ResourceType } from './resources.js';
import { clone, isObject, type KubeObject, type OwnerReference } from './types.js';

const T = (kind: string, apiVersion: string): ResourceType => findByKind(apiVersion, kind)!;
const DEPLOY = T('Deployment', 'apps/v1');
const RS = T('ReplicaSet', 'apps/v1');
const POD = T('Pod', 'v1');
const EVENT = T('Event', 'v1');

export const REVISION = 'deployment.kubernetes.io/revision';
/** Earlier revisions a reused (rolled-back-to) ReplicaSet held, comma-separated, oldest first. */
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const HASH_LABEL = 'pod-template-hash';
/** As the deployment controller's annotationsToSkip: a Deployment's own bookkeeping, never copied. */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);
/** The controller's MaxRevHistoryLengthInChars default. */
const MAX_REVISION_HISTORY_CHARS = 2000;

/** Timing of the simulated cluster; all in real milliseconds. */
export interface RolloutTiming {
  /** How long a new pod takes to become Ready (or to crash). Default 50. */
  readyDelayMs: number;
  /** Interval between restarts of a crash-looping container. Default 40. */
  crashIntervalMs: number;
  /** Milliseconds per second of spec.progressDeadlineSeconds. Default 1 (600 s → 600 ms). */
  msPerDeadlineSecond: number;
  /**
   * Interval of the HPA controller's sync (the real one's is 15 s). Default 0: off, because a fleet's
   * seeded metrics are a snapshot the HPAs would otherwise act on at once (the demo's checkout runs
   * at 92% of a 70% target), changing the replicas every other test and demo starts from.
   */
  hpaSyncMs?: number;
}

interface PendingPod {
  timer: NodeJS.Timeout;
  run: () => void;
}

type ContainerSpec = { name: string; image?: string; [k: string]: unknown };

/**
 * The deployment and replica-set controllers in miniature: a pod-template change makes a new
 * ReplicaSet revision, pods start after a delay (or crash-loop when their image is bad), old
 * ReplicaSets scale down once the new one is ready, and the progress deadline is enforced.
 */
export class RolloutController {
  private readonly pending = new Map<string, PendingPod>();
  private readonly crashTimers = new Map<string, NodeJS.Timeout>();
  private readonly deadlineTimers = new Map<string, NodeJS.Timeout>();
  /** Deployment uid → when its current rollout started (Date.now()), and for which template hash. */
  private readonly rollouts = new Map<string, { hash: string; startedAt: number; expired: boolean }>();
  private closed = false;
  private readonly hpa: HpaController;
  private readonly hpaTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly badImages: Set<string>,
    private readonly timing: RolloutTiming,
    /** Image (without digest) → what its container prints before it exits, as the termination message. */
    private readonly crashMessages: ReadonlyMap<string, string> = new Map(),
  ) {
    this.hpa = new HpaController(store, {
      scale: (ns, name, replicas) => this.scaleDeployment(ns, name, replicas),
      event: (...a) => this.event(...a),
    });
    const every = timing.hpaSyncMs ?? 0;
    if (every > 0) {
      this.hpaTimer = setInterval(() => this.syncAutoscalers(), every);
      this.hpaTimer.unref();
    }
  }

  /** One sync of every HorizontalPodAutoscaler (the timer's work; tests may call it directly). */
  syncAutoscalers(): void {
    if (!this.closed) this.hpa.syncAll();
  }

  /** Sets a Deployment's replicas as an autoscaler's scale subresource write does, then reconciles. */
  private scaleDeployment(ns: string, name: string, replicas: number): void {
    const d = this.store.get(DEPLOY, ns, name);
    if (!d) return;
    (d.spec as { replicas?: number }).replicas = replicas;
    d.metadata.generation = (d.metadata.generation ?? 1) + 1;
    this.store.put(DEPLOY, d);
    this.reconcile(ns, name);
  }

  /** Brings one deployment's ReplicaSets, pods and status in line with its spec. */
  reconcile(ns: string, name: string): void {
    if (this.closed) return;
    const d = this.store.get(DEPLOY, ns, name);
    if (!d) return;
    const spec = (d.spec ?? {}) as Record<string, unknown>;
    const template = clone((spec.template ?? {}) as Record<string, unknown>);
    const hash = templateHash(template);
    const desired = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const owned = this.store.list(RS, ns).filter((rs) => ownedBy(rs, d.metadata.uid!));
    const maxRev = Math.max(0, ...owned.map(revisionOf));
    let newRs = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash);
    const now = this.store.now();

    if (!newRs) {
      const rsName = `${name}-${hash}`;
      const labels = {
        ...((template.metadata as { labels?: Record<string, string> })?.labels ?? {}),
        [HASH_LABEL]: hash,
      };
      const rsTemplate = clone(template) as { metadata?: Record<string, unknown> };
      rsTemplate.metadata = { ...(rsTemplate.metadata ?? {}), labels };
      const sel = clone((spec.selector ?? {}) as { matchLabels?: Record<string, string> });
      sel.matchLabels = { ...(sel.matchLabels ?? {}), [HASH_LABEL]: hash };
      newRs = this.store.put(RS, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace: ns,
          generation: 1,
          labels,
          annotations: {
            ...copiedAnnotations(d),
            'deployment.kubernetes.io/desired-replicas': String(desired),
            'deployment.kubernetes.io/max-replicas': String(desired + Math.ceil(desired / 4)),
            [REVISION]: String(maxRev + 1),
          },
          ownerReferences: [ownerRef(d)],
        },
        spec: { replicas: 0, selector: sel, template: rsTemplate },
        status: { replicas: 0, observedGeneration: 1 },
      });
      owned.push(newRs);
    } else {
      const annotations = newReplicaSetAnnotations(d, newRs, maxRev);
      if (annotations) {
        newRs.metadata.annotations = annotations;
        newRs = this.store.put(RS, newRs);
      }
    }
    const newRev = String(revisionOf(newRs));
    if (d.metadata.annotations?.[REVISION] !== newRev) {
      d.metadata.annotations = { ...d.metadata.annotations, [REVISION]: newRev };
      this.store.put(DEPLOY, d);
    }

    const track = this.rollouts.get(d.metadata.uid!);
    if (!track || track.hash !== hash) {
      this.rollouts.set(d.metadata.uid!, { hash, startedAt: Date.now(), expired: false });
      this.armDeadline(d, hash);
    }

    const olds = owned.filter((rs) => rs.metadata.name !== newRs.metadata.name);
    this.rollStep(d, newRs, olds, desired);
    for (const rs of [newRs, ...olds]) this.syncPods(ns, rs.metadata.name);
    this.pruneHistory(d, newRs.metadata.name);
    this.updateStatus(ns, name, now);
  }

  /**
   * One step of the deployment controller's strategy. RollingUpdate: the new ReplicaSet grows while
   * all ReplicaSets together stay within desired + maxSurge, and old ones shrink only as far as
   * desired - maxUnavailable pods stay available, not counting new pods that are not ready yet;
   * a bad image therefore stalls with the old pods still serving. Recreate: the old pods go
   * first, then the new ReplicaSet scales up. Each pod that turns ready reconciles again: the next step.
   */
  private rollStep(d: KubeObject, newRs: KubeObject, olds: KubeObject[], desired: number): void {
    const ns = d.metadata.namespace!;
    const replicasOf = (rs: KubeObject) => (rs.spec as { replicas?: number }).replicas ?? 0;
    const active = olds.filter((rs) => replicasOf(rs) > 0 || this.pods(ns, rs).length > 0);
    if (active.length === 0) {
      this.scaleRs(newRs, desired, d);
      return;
    }
    const strategy = (d.spec as { strategy?: { type?: string; rollingUpdate?: Record<string, unknown> } })
      .strategy;
    if (strategy?.type === 'Recreate') {
      for (const old of active) this.scaleRs(old, 0, d);
      if (active.every((rs) => this.pods(ns, rs).length === 0)) this.scaleRs(newRs, desired, d);
      return;
    }
    const ru = strategy?.rollingUpdate ?? {};
    const surge = resolvePercent((ru.maxSurge as number | string | undefined) ?? '25%', desired, true);
    let unavailable = resolvePercent(
      (ru.maxUnavailable as number | string | undefined) ?? '25%',
      desired,
      false,
    );
    if (surge === 0 && unavailable === 0) unavailable = 1;

    const total = () => replicasOf(newRs) + active.reduce((n, rs) => n + replicasOf(rs), 0);
    const scaleUp = () => {
      const up = Math.min(desired - replicasOf(newRs), desired + surge - total());
      if (up > 0) this.scaleRs(newRs, replicasOf(newRs) + up, d);
    };
    if (replicasOf(newRs) > desired) this.scaleRs(newRs, desired, d);
    scaleUp();
    const newUnavailable = replicasOf(newRs) - this.pods(ns, newRs).filter(isReady).length;
    let down = total() - (desired - unavailable) - Math.max(0, newUnavailable);
    // Oldest first, as the controller does.
    for (const old of [...active].sort((a, b) => revisionOf(a) - revisionOf(b))) {
      if (down <= 0) break;
      const by = Math.min(down, replicasOf(old));
      if (by > 0) this.scaleRs(old, replicasOf(old) - by, d);
      down -= by;
    }
    // What the old ReplicaSets gave up, the new one may take now (the controller's next sync).
    scaleUp();
  }

  /** Reconciles every deployment (after seeding). */
  reconcileAll(): void {
    for (const d of this.store.list(DEPLOY)) this.reconcile(d.metadata.namespace!, d.metadata.name);
  }

  /** Garbage-collects what a deleted deployment owned. */
  deleted(d: KubeObject): void {
    for (const rs of this.store.list(RS, d.metadata.namespace).filter((r) => ownedBy(r, d.metadata.uid!))) {
      for (const p of this.pods(d.metadata.namespace!, rs)) this.removePod(p);
      this.store.delete(RS, rs.metadata.namespace, rs.metadata.name);
    }
    this.rollouts.delete(d.metadata.uid!);
  }

  /** Finishes every pending start at once and lets expired or doomed rollouts reach their end state. */
  settle(): void {
    for (let i = 0; i < 20 && this.pending.size > 0; i++) {
      const batch = [...this.pending.values()];
      this.pending.clear();
      for (const p of batch) {
        clearTimeout(p.timer);
        p.run();
      }
    }
    for (const d of this.store.list(DEPLOY)) {
      const track = this.rollouts.get(d.metadata.uid!);
      const crashing = this.store
        .list(POD, d.metadata.namespace)
        .some(
          (p) =>
            p.metadata.labels?.[HASH_LABEL] === track?.hash &&
            isCrashing(p) &&
            ownedByDeployment(this.store, p, d),
        );
      if (track && crashing) track.expired = true;
      this.reconcile(d.metadata.namespace!, d.metadata.name);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.hpaTimer);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    for (const t of this.crashTimers.values()) clearInterval(t);
    for (const t of this.deadlineTimers.values()) clearTimeout(t);
    this.pending.clear();
  }

  private armDeadline(d: KubeObject, hash: string): void {
    const secs = Number((d.spec as { progressDeadlineSeconds?: number }).progressDeadlineSeconds ?? 600);
    const key = d.metadata.uid!;
    clearTimeout(this.deadlineTimers.get(key));
    const t = setTimeout(() => {
      const track = this.rollouts.get(key);
      if (track && track.hash === hash) {
        track.expired = true;
        this.reconcile(d.metadata.namespace!, d.metadata.name);
      }
    }, secs * this.timing.msPerDeadlineSecond);
    t.unref();
    this.deadlineTimers.set(key, t);
  }

  private pods(ns: string, rs: KubeObject): KubeObject[] {
    return this.store.list(POD, ns).filter((p) => ownedBy(p, rs.metadata.uid!));
  }

  private scaleRs(rs: KubeObject, replicas: number, d: KubeObject): void {
    const cur = rs.spec as { replicas?: number };
    const from = cur.replicas ?? 0;
    if (from === replicas) return;
    const fresh = this.store.get(RS, rs.metadata.namespace, rs.metadata.name);
    if (!fresh) return;
    (fresh.spec as { replicas: number }).replicas = replicas;
    fresh.metadata.generation = (fresh.metadata.generation ?? 1) + 1;
    fresh.metadata.annotations = {
      ...fresh.metadata.annotations,
      'deployment.kubernetes.io/desired-replicas': String((d.spec as { replicas?: number }).replicas ?? 1),
    };
    this.store.put(RS, fresh);
    (rs.spec as { replicas: number }).replicas = replicas;
    this.event(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${replicas}`,
      'deployment-controller',
    );
  }

  private syncPods(ns: string, rsName: string): void {
    const rs = this.store.get(RS, ns, rsName);
    if (!rs) return;
    const want = (rs.spec as { replicas?: number }).replicas ?? 0;
    const pods = this.pods(ns, rs);
    for (let i = pods.length; i < want; i++) this.createPod(rs);
    if (pods.length > want) {
      const victims = [...pods]
        .sort((a, b) => Number(isReady(a)) - Number(isReady(b)))
        .slice(0, pods.length - want);
      for (const p of victims) {
        this.removePod(p);
        this.event(
          rs,
          'Normal',
          'SuccessfulDelete',
          `Deleted pod: ${p.metadata.name}`,
          'replicaset-controller',
        );
      }
    }
    const after = this.pods(ns, rs);
    const ready = after.filter(isReady).length;
    const status: Record<string, unknown> = {
      replicas: after.length,
      fullyLabeledReplicas: after.length,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    if (ready > 0) {
      status.readyReplicas = ready;
      status.availableReplicas = ready;
    }
    if (JSON.stringify(status) !== JSON.stringify(rs.status)) this.store.put(RS, { ...rs, status });
  }

  private createPod(rs: KubeObject): void {
    const ns = rs.metadata.namespace!;
    const template = clone(
      (rs.spec as { template: { metadata?: Record<string, unknown>; spec: { containers: ContainerSpec[] } } })
        .template,
    );
    const name = `${rs.metadata.name}-${suffix()}`;
    const containers = template.spec.containers ?? [];
    const pod = this.store.put(POD, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${rs.metadata.name}-`,
        namespace: ns,
        labels: (template.metadata?.labels as Record<string, string>) ?? {},
        ...(template.metadata?.annotations
          ? { annotations: template.metadata.annotations as Record<string, string> }
          : {}),
        ownerReferences: [ownerRef(rs)],
      },
      spec: { ...template.spec, nodeName: 'sandbox-node-1' },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: this.store.now() }],
        hostIP: '10.0.0.10',
        startTime: this.store.now(),
        qosClass: 'BestEffort',
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
        })),
      },
    });
    this.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'replicaset-controller');
    this.event(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${ns}/${name} to sandbox-node-1`,
      'default-scheduler',
    );
    const key = `${ns}/${name}`;
    const run = () => this.startPod(ns, name);
    const timer = setTimeout(() => {
      this.pending.delete(key);
      run();
    }, this.timing.readyDelayMs);
    timer.unref();
    this.pending.set(key, { timer, run });
  }

  private startPod(ns: string, name: string): void {
    if (this.closed) return;
    const pod = this.store.get(POD, ns, name);
    if (!pod) return;
    const containers = (pod.spec as { containers?: ContainerSpec[] }).containers ?? [];
    // A bad tag stays bad whatever digest a client pins it with.
    const bad = containers.find(
      (c) => c.image && (this.badImages.has(c.image) || this.badImages.has(c.image.split('@')[0]!)),
    );
    const now = this.store.now();
    for (const c of containers)
      this.event(
        pod,
        'Normal',
        'Pulled',
        `Container image "${c.image}" already present on machine`,
        'kubelet',
      );
    if (bad) {
      this.crash(ns, name, bad.name);
      const t = setInterval(() => this.crash(ns, name, bad.name), this.timing.crashIntervalMs);
      t.unref();
      this.crashTimers.set(`${ns}/${name}`, t);
    } else {
      const status = pod.status as Record<string, unknown>;
      status.phase = 'Running';
      status.podIP = `10.244.0.${(hashNum(name) % 250) + 2}`;
      status.conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: now,
      }));
      status.containerStatuses = containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: `docker.io/${c.image}@sha256:${sha(c.image ?? '')}`,
        containerID: `containerd://${sha(name + c.name)}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      }));
      this.store.put(POD, pod);
      for (const c of containers)
        this.event(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
    }
    this.reconcileOwner(pod);
  }

  private crash(ns: string, name: string, container: string): void {
    if (this.closed) return;
    const pod = this.store.get(POD, ns, name);
    if (!pod) {
      clearInterval(this.crashTimers.get(`${ns}/${name}`));
      return;
    }
    const now = this.store.now();
    const status = pod.status as {
      phase: string;
      conditions: unknown[];
      containerStatuses: Record<string, unknown>[];
    };
    status.phase = 'Running';
    status.conditions = [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      { type: 'Initialized', status: 'True', lastTransitionTime: now },
      {
        type: 'ContainersReady',
        status: 'False',
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${container}]`,
        lastTransitionTime: now,
      },
      {
        type: 'Ready',
        status: 'False',
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${container}]`,
        lastTransitionTime: now,
      },
    ];
    status.containerStatuses = status.containerStatuses.map((cs) => {
      if (cs.name !== container) return cs;
      const restarts = Number(cs.restartCount ?? 0) + 1;
      const image = typeof cs.image === 'string' ? cs.image : '';
      const message = this.crashMessages.get(image.split('@')[0]!);
      return {
        ...cs,
        ready: false,
        started: false,
        restartCount: restarts,
        state: {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${Math.min(300, 10 * 2 ** Math.min(restarts - 1, 5))}s restarting failed container=${container} pod=${name}_${ns}(${pod.metadata.uid})`,
          },
        },
        lastState: {
          terminated: {
            exitCode: 1,
            reason: 'Error',
            ...(message ? { message } : {}),
            startedAt: now,
            finishedAt: now,
            containerID: `containerd://${sha(name + restarts)}`,
          },
        },
      };
    });
    this.store.put(POD, pod);
    this.event(
      pod,
      'Warning',
      'BackOff',
      `Back-off restarting failed container ${container} in pod ${name}_${ns}(${pod.metadata.uid})`,
      'kubelet',
    );
    this.reconcileOwner(pod);
  }

  private removePod(p: KubeObject): void {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    const pend = this.pending.get(key);
    if (pend) clearTimeout(pend.timer);
    this.pending.delete(key);
    clearInterval(this.crashTimers.get(key));
    this.crashTimers.delete(key);
    for (const c of (p.spec as { containers?: ContainerSpec[] }).containers ?? [])
      this.event(p, 'Normal', 'Killing', `Stopping container ${c.name}`, 'kubelet');
    this.store.delete(POD, p.metadata.namespace, p.metadata.name);
  }

  private reconcileOwner(pod: KubeObject): void {
    const rsRef = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
    if (!rsRef) return;
    const rs = this.store.get(RS, pod.metadata.namespace, rsRef.name);
    const dRef = rs?.metadata.ownerReferences?.find((o) => o.kind === 'Deployment');
    if (dRef) this.reconcile(pod.metadata.namespace!, dRef.name);
  }

  private pruneHistory(d: KubeObject, current: string): void {
    const limit = Number((d.spec as { revisionHistoryLimit?: number }).revisionHistoryLimit ?? 10);
    const olds = this.store
      .list(RS, d.metadata.namespace)
      .filter(
        (rs) =>
          ownedBy(rs, d.metadata.uid!) &&
          rs.metadata.name !== current &&
          ((rs.spec as { replicas?: number }).replicas ?? 0) === 0 &&
          ((rs.status as { replicas?: number })?.replicas ?? 0) === 0,
      )
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of olds.slice(0, Math.max(0, olds.length - limit)))
      this.store.delete(RS, rs.metadata.namespace, rs.metadata.name);
  }

  private updateStatus(ns: string, name: string, now: string): void {
    const d = this.store.get(DEPLOY, ns, name);
    if (!d) return;
    const spec = d.spec as {
      replicas?: number;
      strategy?: { rollingUpdate?: { maxUnavailable?: number | string } };
    };
    const desired = spec.replicas ?? 1;
    const owned = this.store.list(RS, ns).filter((rs) => ownedBy(rs, d.metadata.uid!));
    const current = owned.find((rs) => String(revisionOf(rs)) === d.metadata.annotations?.[REVISION]);
    const all = owned.flatMap((rs) => this.pods(ns, rs));
    const updated = current ? this.pods(ns, current) : [];
    const ready = all.filter(isReady).length;
    const updatedReady = updated.filter(isReady).length;
    const maxUnavailable = resolvePercent(
      spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%',
      desired,
      false,
    );
    const track = this.rollouts.get(d.metadata.uid!);
    const complete = updated.length === desired && updatedReady === desired && all.length === desired;
    const rsName = current?.metadata.name ?? name;
    const old = (d.status ?? {}) as { conditions?: Record<string, unknown>[] };
    const cond = (type: string, status: string, reason: string, message: string) => {
      const prev = old.conditions?.find((c) => c.type === type);
      const same = prev && prev.status === status && prev.reason === reason;
      return {
        type,
        status,
        lastUpdateTime: same && prev.message === message ? prev.lastUpdateTime : now,
        lastTransitionTime: same ? prev.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const available = ready >= desired - maxUnavailable;
    const progressing = complete
      ? cond(
          'Progressing',
          'True',
          'NewReplicaSetAvailable',
          `ReplicaSet "${rsName}" has successfully progressed.`,
        )
      : track?.expired
        ? cond(
            'Progressing',
            'False',
            'ProgressDeadlineExceeded',
            `ReplicaSet "${rsName}" has timed out progressing.`,
          )
        : cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: all.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(all.length - ready > 0 ? { unavailableReplicas: all.length - ready } : {}),
      conditions: [
        cond(
          'Available',
          available ? 'True' : 'False',
          available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          available
            ? 'Deployment has minimum availability.'
            : 'Deployment does not have minimum availability.',
        ),
        progressing,
      ],
    };
    if (ready === 0) {
      delete status.readyReplicas;
      delete status.availableReplicas;
    }
    if (JSON.stringify(status) === JSON.stringify(d.status)) return;
    const prevReason = old.conditions?.find((c) => c.type === 'Progressing')?.reason;
    this.store.put(DEPLOY, { ...d, status });
    if (progressing.reason === 'ProgressDeadlineExceeded' && prevReason !== 'ProgressDeadlineExceeded') {
      this.event(
        d,
        'Warning',
        'ProgressDeadlineExceeded',
        `Deployment "${name}" has timed out progressing.`,
        'deployment-controller',
      );
    }
  }

  /** Records an event (core v1), folding repeats into one with a rising count. */
  event(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
  ): void {
    const ns = obj.metadata.namespace ?? 'default';
    const now = this.store.now();
    const existing = this.store
      .list(EVENT, ns)
      .find(
        (e) =>
          (e.involvedObject as { uid?: string }).uid === obj.metadata.uid &&
          e.reason === reason &&
          (reason === 'BackOff' || e.message === message),
      );
    if (existing) {
      this.store.put(EVENT, {
        ...existing,
        message,
        count: Number(existing.count ?? 1) + 1,
        lastTimestamp: now,
      });
      return;
    }
    this.store.put(EVENT, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: ns,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      source: { component, ...(component === 'kubelet' ? { host: 'sandbox-node-1' } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? 'sandbox-node-1' : '',
    });
  }
}

/** The Deployment's annotations a ReplicaSet it rolls out carries (copyDeploymentAnnotationsToReplicaSet). */
function copiedAnnotations(d: KubeObject): Record<string, string> {
  return Object.fromEntries(Object.entries(d.metadata.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)));
}

/**
 * SetNewReplicaSetAnnotations for a ReplicaSet that already exists and is the Deployment's new one:
 * the Deployment's annotations copied over, and, when it is not the newest revision (a rollback
 * to its template), the next revision number, its old number kept in revision-history. Returns
 * the annotations when they change, undefined when they do not.
 */
function newReplicaSetAnnotations(
  d: KubeObject,
  rs: KubeObject,
  maxRev: number,
): Record<string, string> | undefined {
  const before = rs.metadata.annotations ?? {};
  const next: Record<string, string> = { ...before, ...copiedAnnotations(d) };
  const old = revisionOf(rs);
  if (old !== maxRev) {
    next[REVISION] = String(maxRev + 1);
    if (before[REVISION] !== undefined) {
      const history = (before[REVISION_HISTORY] ?? '').split(',').filter(Boolean);
      history.push(String(old));
      // Oldest entries go first when the annotation would grow past the controller's limit.
      while (history.join(',').length > MAX_REVISION_HISTORY_CHARS) history.shift();
      next[REVISION_HISTORY] = history.join(',');
    }
  }
  const changed = Object.keys(next).some((k) => next[k] !== before[k]);
  return changed ? next : undefined;
}

export function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0);
}

function ownedBy(o: KubeObject, uid: string): boolean {
  return (o.metadata.ownerReferences ?? []).some((r) => r.uid === uid && r.controller);
}

function ownedByDeployment(store: ObjectStore, pod: KubeObject, d: KubeObject): boolean {
  const rsRef = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
  const rs = rsRef ? store.get(RS, pod.metadata.namespace, rsRef.name) : undefined;
  return !!rs && ownedBy(rs, d.metadata.uid!);
}

/** The controller reference a ReplicaSet or Pod carries to its owner. */
export function ownerRef(o: KubeObject): OwnerReference {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name,
    uid: o.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isReady(p: KubeObject): boolean {
  const conds = (p.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

function isCrashing(p: KubeObject): boolean {
  const cs =
    (p.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] })
      ?.containerStatuses ?? [];
  return cs.some((c) => c.state?.waiting?.reason === 'CrashLoopBackOff');
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A pod-template-hash in the controller's alphabet, stable for equal templates. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256')
    .update(canonical(stripHash(template)))
    .digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += ALPHABET[digest[i]! % ALPHABET.length];
  return out;
}

function stripHash(template: unknown): unknown {
  const t = clone(template) as { metadata?: { labels?: Record<string, string> } };
  if (isObject(t) && t.metadata?.labels) delete t.metadata.labels[HASH_LABEL];
  return t;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

function suffix(): string {
  const b = randomBytes(5);
  return [...b].map((x) => ALPHABET[x % ALPHABET.length]).join('');
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function hashNum(s: string): number {
  return createHash('sha256').update(s).digest()[0]!;
}

/** Resolves an int-or-percent (maxUnavailable) against a replica count. */
export function resolvePercent(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = v.match(/^(\d+)%$/);
  if (!m) return Number(v) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}
