import { cpuMillicores, memoryBytes } from '../../providers/kubernetes/quantity.js';
import type { ObjectStore } from './object-store.js';
import { podMetrics } from './pod-metrics.js';
import { findByKind } from './resources.js';
import type { RolloutController } from './rollout-controller.js';
import type { KubeObject } from './types.js';

const HPA = findByKind('autoscaling/v2', 'HorizontalPodAutoscaler')!;
const DEPLOY = findByKind('apps/v1', 'Deployment')!;
const POD = findByKind('v1', 'Pod')!;
const RS = findByKind('apps/v1', 'ReplicaSet')!;

/** The controller's --horizontal-pod-autoscaler-tolerance default: ratios within 10% of 1 do nothing. */
const TOLERANCE = 0.1;
/** behavior.scaleDown.stabilizationWindowSeconds default (the controller's downscale stabilization). */
const SCALE_DOWN_WINDOW_S = 300;

interface MetricSpec {
  type?: string;
  resource?: {
    name?: string;
    target?: { type?: string; averageUtilization?: number; averageValue?: string };
  };
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/**
 * The horizontal-pod-autoscaler controller in miniature, for autoscaling/v2 Resource metrics
 * (cpu, memory) on Deployments: each sync reads the target's ready pods from metrics.k8s.io
 * (podMetrics, the same source the API serves), computes
 * `desired = ceil(readyPods × current / target)` as the real controller does, leaves ratios within
 * the 10% tolerance alone, keeps the highest recommendation of the scale-down stabilization window
 * (default 300 s) before scaling down, clamps to min/max, scales the Deployment and writes the
 * HPA's status (currentMetrics, desiredReplicas, conditions), only when something changed.
 */
export class HpaController {
  /** HPA namespace/name → recent recommendations (Date.now(), replicas) for stabilization. */
  private readonly recommendations = new Map<string, { at: number; replicas: number }[]>();

  constructor(
    private readonly store: ObjectStore,
    private readonly target: Pick<RolloutController, 'event'> & {
      /** Sets a Deployment's spec.replicas and lets the deployment controller act on it. */
      scale(ns: string, name: string, replicas: number): void;
    },
  ) {}

  syncAll(): void {
    for (const hpa of this.store.list(HPA)) this.sync(hpa);
  }

  private sync(hpa: KubeObject): void {
    const ns = hpa.metadata.namespace!;
    const spec = (hpa.spec ?? {}) as {
      scaleTargetRef?: { kind?: string; name?: string };
      minReplicas?: number;
      maxReplicas?: number;
      metrics?: MetricSpec[];
      behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } };
    };
    const ref = spec.scaleTargetRef;
    const d = ref?.kind === 'Deployment' && ref.name ? this.store.get(DEPLOY, ns, ref.name) : undefined;
    if (!d) {
      this.writeStatus(hpa, {
        conditions: [
          cond('AbleToScale', 'False', 'FailedGetScale', `deployments/scale "${ref?.name ?? ''}" not found`),
        ],
      });
      return;
    }
    const current = (d.spec as { replicas?: number }).replicas ?? 1;
    // As the real controller: a target scaled to zero by hand has autoscaling switched off.
    if (current === 0) return;
    const min = spec.minReplicas ?? 1;
    const max = spec.maxReplicas ?? current;
    const pods = this.readyPods(d);
    const usage = new Map(podMetrics(this.store, ns).map((m) => [m.metadata.name, m]));
    const proposals: number[] = [];
    const currentMetrics: unknown[] = [];
    let failure: string | undefined;
    for (const m of spec.metrics ?? []) {
      const name = m.resource?.name;
      const target = m.resource?.target;
      if (m.type !== 'Resource' || (name !== 'cpu' && name !== 'memory') || !target) continue;
      const amount = name === 'cpu' ? cpuMillicores : memoryBytes;
      let used = 0;
      let requested = 0;
      let counted = 0;
      for (const p of pods) {
        const metric = usage.get(p.metadata.name);
        if (!metric) continue;
        const containers =
          (p.spec as { containers?: { resources?: { requests?: Record<string, string> } }[] }).containers ??
          [];
        const req = containers.reduce((s, c) => s + amount(c.resources?.requests?.[name]), 0);
        if (containers.some((c) => !c.resources?.requests?.[name])) {
          failure = `failed to get ${name} utilization: missing request for ${name} in pod ${p.metadata.name}`;
          break;
        }
        used += ((metric.containers ?? []) as { usage?: Record<string, string> }[]).reduce(
          (s, c) => s + amount(c.usage?.[name]),
          0,
        );
        requested += req;
        counted++;
      }
      if (failure) break;
      if (counted === 0) {
        failure = `failed to get ${name} utilization: unable to get metrics for resource ${name}: no metrics returned from resource metrics API`;
        break;
      }
      let ratio: number;
      let cur: Record<string, unknown>;
      if (target.type === 'Utilization' && target.averageUtilization) {
        const utilization = (used / requested) * 100;
        ratio = utilization / target.averageUtilization;
        cur = {
          averageUtilization: Math.round(utilization),
          averageValue:
            name === 'cpu' ? `${Math.round(used / counted)}m` : String(Math.round(used / counted)),
        };
      } else if (target.type === 'AverageValue' && target.averageValue) {
        ratio = used / counted / amount(target.averageValue);
        cur = {
          averageValue:
            name === 'cpu' ? `${Math.round(used / counted)}m` : String(Math.round(used / counted)),
        };
      } else continue;
      currentMetrics.push({ type: 'Resource', resource: { name, current: cur } });
      proposals.push(Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(ratio * counted));
    }
    if (failure || proposals.length === 0) {
      this.writeStatus(hpa, {
        currentReplicas: current,
        desiredReplicas: current,
        conditions: [
          cond(
            'AbleToScale',
            'True',
            'SucceededGetScale',
            "the HPA controller was able to get the target's current scale",
          ),
          cond(
            'ScalingActive',
            'False',
            'FailedGetResourceMetric',
            failure ?? 'no Resource metric to act on',
          ),
        ],
      });
      return;
    }
    const recommended = Math.max(...proposals);
    const key = `${ns}/${hpa.metadata.name}`;
    const now = Date.now();
    const windowMs = (spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? SCALE_DOWN_WINDOW_S) * 1000;
    // As the controller's maybeInitScaleDownStabilizationWindow: a newly seen HPA's window starts at
    // the current size, so a controller (re)start does not scale anything down at once.
    const seen = this.recommendations.get(key) ?? [{ at: now, replicas: current }];
    const recent = seen.filter((r) => now - r.at <= windowMs);
    recent.push({ at: now, replicas: recommended });
    this.recommendations.set(key, recent);
    // Scale down only as far as every recommendation of the window allows.
    const stabilized =
      recommended < current ? Math.min(current, Math.max(...recent.map((r) => r.replicas))) : recommended;
    const desired = Math.min(max, Math.max(min, stabilized));
    const limited =
      stabilized > max
        ? cond(
            'ScalingLimited',
            'True',
            'TooManyReplicas',
            'the desired replica count is more than the maximum replica count',
          )
        : stabilized < min
          ? cond(
              'ScalingLimited',
              'True',
              'TooFewReplicas',
              'the desired replica count is less than the minimum replica count',
            )
          : cond(
              'ScalingLimited',
              'False',
              'DesiredWithinRange',
              'the desired count is within the acceptable range',
            );
    const scaled = desired !== current;
    if (scaled) {
      this.target.scale(ns, d.metadata.name, desired);
      const names = currentMetrics.map((m) => (m as { resource: { name: string } }).resource.name).join(', ');
      this.target.event(
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${desired}; reason: ${names} resource ${desired > current ? 'above' : 'below'} target`,
        'horizontal-pod-autoscaler',
      );
    }
    this.writeStatus(hpa, {
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics,
      ...(scaled ? { lastScaleTime: this.store.now() } : {}),
      conditions: [
        scaled
          ? cond(
              'AbleToScale',
              'True',
              'SucceededRescale',
              `the HPA controller was able to update the target scale to ${desired}`,
            )
          : cond('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size'),
        cond(
          'ScalingActive',
          'True',
          'ValidMetricFound',
          'the HPA was able to successfully calculate a replica count from resource metrics',
        ),
        limited,
      ],
    });
  }

  /** Running, Ready pods of the Deployment's ReplicaSets. */
  private readyPods(d: KubeObject): KubeObject[] {
    const ns = d.metadata.namespace;
    const sets = new Set(
      this.store
        .list(RS, ns)
        .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid))
        .map((rs) => rs.metadata.uid),
    );
    return this.store
      .list(POD, ns)
      .filter(
        (p) =>
          p.metadata.ownerReferences?.some((o) => sets.has(o.uid)) &&
          (p.status as { phase?: string } | undefined)?.phase === 'Running' &&
          ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(
            (c) => c.type === 'Ready' && c.status === 'True',
          ),
      );
  }

  /** Writes status fields when they differ from what is stored, keeping unchanged conditions' times. */
  private writeStatus(hpa: KubeObject, fields: Record<string, unknown> & { conditions: Condition[] }): void {
    const before = (hpa.status ?? {}) as Record<string, unknown> & { conditions?: Condition[] };
    const now = this.store.now();
    const conditions = fields.conditions.map((c) => {
      const old = before.conditions?.find((o) => o.type === c.type);
      return {
        ...c,
        lastTransitionTime: old && old.status === c.status ? (old.lastTransitionTime ?? now) : now,
      };
    });
    const next = { ...before, ...fields, conditions, observedGeneration: hpa.metadata.generation ?? 1 };
    if (JSON.stringify(next) === JSON.stringify(before)) return;
    this.store.put(HPA, { ...hpa, status: next });
  }
}

function cond(type: string, status: 'True' | 'False', reason: string, message: string): Condition {
  return { type, status, reason, message };
}
