import { untrusted } from '../../context/gather.js';
import type { EventInfo, PodInfo } from '../../../providers/kubernetes/types.js';

/** What is wrong with a deployment's pods, from pod status and Warning events. */
export interface PodHealth {
  total: number;
  ready: number;
  restarts: number;
  crashLooping: string[];
  oomKilled: string[];
  notReady: string[];
  imagePull: string[];
  /** Warning events (BackOff, Unhealthy, OOMKilling, FailedScheduling, ...), newest first; untrusted text. */
  warnings: string[];
}

const PULL = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName']);

export function podHealth(pods: PodInfo[], events: EventInfo[]): PodHealth {
  const h: PodHealth = {
    total: pods.length,
    ready: 0,
    restarts: 0,
    crashLooping: [],
    oomKilled: [],
    notReady: [],
    imagePull: [],
    warnings: [],
  };
  for (const p of pods) {
    if (p.ready) h.ready++;
    h.restarts += p.restarts;
    for (const c of p.containers) {
      const where = `${p.name}/${c.name}`;
      if (c.waitingReason === 'CrashLoopBackOff')
        h.crashLooping.push(`${where}: CrashLoopBackOff, ${c.restartCount} restarts`);
      else if (c.waitingReason && PULL.has(c.waitingReason))
        h.imagePull.push(`${where}: ${c.waitingReason} (${untrusted(c.image, 120)})`);
      if (c.lastTerminationReason === 'OOMKilled')
        h.oomKilled.push(`${where}: last run OOMKilled, ${c.restartCount} restarts`);
    }
    if (!p.ready && p.phase !== 'Succeeded') h.notReady.push(`${p.name}: ${p.phase}, not ready`);
  }
  for (const e of events) {
    if (e.type !== 'Warning') continue;
    h.warnings.push(
      untrusted(
        `${e.reason} ${e.object.kind}/${e.object.name}${e.count > 1 ? ` ×${e.count}` : ''}: ${e.message}`,
        180,
      ),
    );
  }
  return h;
}

export function hasProblems(h: PodHealth): boolean {
  return h.crashLooping.length + h.oomKilled.length + h.notReady.length + h.imagePull.length > 0;
}
