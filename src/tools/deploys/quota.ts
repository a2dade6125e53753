import { canonicalQuantity } from './drift/quantity.js';
import type { DeploymentInfo, ResourceQuotaInfo } from '../../providers/kubernetes/types.js';

/** Numeric value of a quantity (cores for CPU, bytes for memory); 0 when unreadable. */
export function quantity(q: string | undefined): number {
  return Number(canonicalQuantity(q) ?? 0);
}

/** What one pod of a deployment requests and is limited to, summed over its containers. */
export function perPod(d: DeploymentInfo): Record<string, number> {
  const out: Record<string, number> = {
    pods: 1,
    'requests.cpu': 0,
    'requests.memory': 0,
    'limits.cpu': 0,
    'limits.memory': 0,
  };
  for (const c of d.resources) {
    out['requests.cpu']! += quantity(c.requests.cpu);
    out['requests.memory']! += quantity(c.requests.memory);
    out['limits.cpu']! += quantity(c.limits.cpu);
    out['limits.memory']! += quantity(c.limits.memory);
  }
  return out;
}

export interface QuotaCheck {
  quota: string;
  resource: string;
  hard: number;
  used: number;
  /** hard - used, before the change. */
  headroom: number;
  /** What the change adds (negative when it frees). */
  change: number;
  fits: boolean;
}

/**
 * Headroom of every ResourceQuota in the namespace for a change of `delta` replicas and, when
 * `after` is given, of the pod template's resources too. `used` comes from the quota's status;
 * where the status lacks a resource, it is summed from the namespace's deployments.
 */
export function quotaChecks(
  quotas: ResourceQuotaInfo[],
  d: DeploymentInfo,
  delta: number,
  namespaceDeployments: DeploymentInfo[],
  after: DeploymentInfo = d,
): QuotaCheck[] {
  const pod = perPod(d);
  const podAfter = perPod(after);
  const out: QuotaCheck[] = [];
  for (const q of quotas) {
    for (const [key, hardText] of Object.entries(q.hard)) {
      const resource = key === 'cpu' ? 'requests.cpu' : key === 'memory' ? 'requests.memory' : key;
      const per = pod[resource];
      if (per === undefined) continue;
      const hard = quantity(hardText);
      const used =
        q.used[key] !== undefined
          ? quantity(q.used[key])
          : namespaceDeployments.reduce((n, x) => n + (perPod(x)[resource] ?? 0) * x.replicas, 0);
      const change = podAfter[resource]! * (d.replicas + delta) - per * d.replicas;
      out.push({
        quota: q.name,
        resource: key,
        hard,
        used,
        headroom: hard - used,
        change,
        fits: change <= 0 || used + change <= hard + 1e-9,
      });
    }
  }
  return out;
}

/** A readable amount: cores as `1.5` / `250m`, bytes as Mi/Gi, pods as counts. */
export function formatAmount(resource: string, v: number): string {
  if (resource.includes('cpu'))
    return Math.abs(v) < 1 ? `${Math.round(v * 1000)}m` : `${Math.round(v * 100) / 100}`;
  if (resource.includes('memory') || resource.includes('storage')) {
    const mi = v / 2 ** 20;
    return Math.abs(mi) >= 1024 ? `${Math.round((mi / 1024) * 100) / 100}Gi` : `${Math.round(mi)}Mi`;
  }
  return String(Math.round(v * 100) / 100);
}
