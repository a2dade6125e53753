import type { ToolContext } from '../../contract/define-tool.js';
import type { DeploymentInfo, KubernetesProvider, PodInfo } from '../../providers/kubernetes/types.js';
import { untrusted } from '../context/gather.js';
import { writeOrReplan } from './workload.js';
import { autoRollbackCause } from '../context/changes/cause.js';

/** Waiting reasons that mean a new pod will not become ready by itself. */
const FATAL_WAITING = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'CreateContainerConfigError',
  'InvalidImageName',
  'CreateContainerError',
  'RunContainerError',
]);

export interface RolloutOutcome {
  ok: boolean;
  /** Complete, CrashLoop, ProgressDeadlineExceeded, Timeout or Aborted. */
  reason: string;
  /** What the new pods reported (backend text: data). */
  problems: string[];
  deployment?: DeploymentInfo;
}

export interface WatchOptions {
  /** Pods that existed before the change; every other pod of the deployment is new. */
  podsBefore: ReadonlySet<string>;
  timeoutMs: number;
  signal: AbortSignal;
  pollMs?: number;
  progress?: (done: number, total: number, message: string) => Promise<void>;
}

/**
 * Watches a rollout until it completes, a new pod crash-loops or cannot pull its image (fails
 * fast), the API server reports ProgressDeadlineExceeded, or the timeout passes.
 */
export async function watchRollout(
  k8s: KubernetesProvider,
  namespace: string,
  name: string,
  opts: WatchOptions,
): Promise<RolloutOutcome> {
  const deadline = Date.now() + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 100;
  let last: DeploymentInfo | undefined;
  let problems: string[] = [];
  for (;;) {
    if (opts.signal.aborted) return { ok: false, reason: 'Aborted', problems, deployment: last };
    last = await k8s.getDeployment(namespace, name);
    const pods = await k8s.listPods(namespace, last.selector);
    const fresh = pods.filter((p) => !opts.podsBefore.has(p.name));
    problems = fresh.flatMap(podProblems);
    await opts.progress?.(
      Math.min(last.updatedReplicas, last.readyReplicas),
      last.replicas,
      `${last.updatedReplicas}/${last.replicas} updated, ${last.readyReplicas} ready`,
    );
    const crashing = fresh.some((p) =>
      p.containers.some(
        (c) => (c.waitingReason && FATAL_WAITING.has(c.waitingReason)) || c.restartCount >= 2,
      ),
    );
    if (crashing) return { ok: false, reason: 'CrashLoop', problems, deployment: last };
    const progressing = last.conditions.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded')
      return { ok: false, reason: 'ProgressDeadlineExceeded', problems, deployment: last };
    if (
      last.observedGeneration >= last.generation &&
      last.updatedReplicas === last.replicas &&
      last.currentReplicas === last.replicas &&
      last.availableReplicas === last.replicas &&
      last.readyReplicas === last.replicas
    )
      return { ok: true, reason: 'Complete', problems: [], deployment: last };
    if (Date.now() >= deadline) return { ok: false, reason: 'Timeout', problems, deployment: last };
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())), opts.signal);
  }
}

/** Names of the deployment's pods now, for telling new pods from old ones. */
export async function podNames(
  k8s: KubernetesProvider,
  namespace: string,
  selector: string,
): Promise<Set<string>> {
  return new Set((await k8s.listPods(namespace, selector)).map((p) => p.name));
}

function podProblems(p: PodInfo): string[] {
  return p.containers
    .filter((c) => c.waitingReason || c.lastTerminationReason || c.restartCount > 0)
    .map((c) =>
      untrusted(
        `${p.name}/${c.name}: ${c.waitingReason ?? (c.ready ? 'running' : 'not ready')}${c.lastTerminationReason ? ` (last: ${c.lastTerminationReason})` : ''}, ${c.restartCount} restarts`,
        160,
      ),
    )
    .slice(0, 5);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface GuardedRollout {
  outcome: 'rolled_out' | 'rolled_back' | 'rollback_failed' | 'not_confirmed';
  reason: string;
  problems: string[];
  revision?: number;
  rolled_back_to?: number;
  images: { container: string; image: string }[];
}

/** What the plan tells approvers about the automatic rollback of a template change. */
export function autoRollbackNote(args: { auto_rollback?: boolean }, revision: number | undefined): string {
  return args.auto_rollback !== false
    ? `to revision ${revision ?? '?'} if new pods crash-loop or the rollout misses its deadline`
    : 'off';
}

/**
 * Changes a Deployment's pod template with `write` (which carries the planned resourceVersion: a
 * 409 means plan again, and `cause`, the rollout's annotations), then guards the rollout it starts
 * as guardToolRollout does; an automatic rollback is signed with the same cause.
 */
export async function changeTemplate(
  w: { k8s: KubernetesProvider; namespace: string; name: string },
  previousRevision: number | null,
  args: { timeout_seconds?: number; auto_rollback?: boolean },
  ctx: ToolContext,
  cause: Record<string, string>,
  write: () => Promise<unknown>,
): Promise<GuardedRollout> {
  const d = await w.k8s.getDeployment(w.namespace, w.name);
  const before = await podNames(w.k8s, w.namespace, d.selector);
  await writeOrReplan('deployment', write);
  return guardToolRollout(
    w.k8s,
    w.namespace,
    w.name,
    previousRevision ?? undefined,
    before,
    args,
    ctx,
    cause,
  );
}

/**
 * guardRollout as a write tool runs it: the tool's `timeout_seconds` (default 600) and
 * `auto_rollback` (default on), with MCP progress and cancellation from the call.
 */
export function guardToolRollout(
  k8s: KubernetesProvider,
  namespace: string,
  name: string,
  previousRevision: number | undefined,
  podsBefore: ReadonlySet<string>,
  args: { timeout_seconds?: number; auto_rollback?: boolean },
  ctx: ToolContext,
  cause?: Record<string, string>,
): Promise<GuardedRollout> {
  return guardRollout(k8s, namespace, name, previousRevision, {
    podsBefore,
    timeoutMs: (args.timeout_seconds ?? 600) * 1000,
    signal: ctx.signal,
    autoRollback: args.auto_rollback !== false,
    progress: (done, total, message) => ctx.progress(done, total, message),
    ...(cause ? { rollbackAnnotations: autoRollbackCause(cause) } : {}),
  });
}

/**
 * After a template change: watch the rollout and, when new pods crash-loop or the rollout fails
 * within its deadline, roll back on its own to `previousRevision` and wait for that to settle.
 */
export async function guardRollout(
  k8s: KubernetesProvider,
  namespace: string,
  name: string,
  previousRevision: number | undefined,
  opts: WatchOptions & { autoRollback: boolean; rollbackAnnotations?: Record<string, string> },
): Promise<GuardedRollout> {
  const watched = await watchRollout(k8s, namespace, name, opts);
  if (watched.ok)
    return {
      outcome: 'rolled_out',
      reason: watched.reason,
      problems: [],
      revision: watched.deployment?.revision,
      images: watched.deployment?.images ?? [],
    };
  if (watched.reason === 'Aborted' || !opts.autoRollback || previousRevision === undefined)
    return {
      outcome: 'not_confirmed',
      reason: watched.reason,
      problems: watched.problems,
      revision: watched.deployment?.revision,
      images: watched.deployment?.images ?? [],
    };
  await opts.progress?.(
    0,
    1,
    `rollout failed (${watched.reason}); rolling back to revision ${previousRevision}`,
  );
  try {
    const before = await podNames(k8s, namespace, watched.deployment?.selector ?? '');
    await k8s.rollbackDeployment(namespace, name, previousRevision, {
      annotations: opts.rollbackAnnotations,
    });
    const back = await watchRollout(k8s, namespace, name, {
      ...opts,
      podsBefore: before,
      timeoutMs: Math.max(opts.timeoutMs, 60_000),
    });
    return {
      outcome: 'rolled_back',
      reason: watched.reason,
      problems: watched.problems,
      revision: back.deployment?.revision,
      rolled_back_to: previousRevision,
      images: back.deployment?.images ?? [],
    };
  } catch (err) {
    return {
      outcome: 'rollback_failed',
      reason: `${watched.reason}; the automatic rollback failed: ${untrusted(err instanceof Error ? err.message : String(err))}`,
      problems: watched.problems,
      revision: watched.deployment?.revision,
      images: watched.deployment?.images ?? [],
    };
  }
}
