import type { ToolContext } from '../../contract/define-tool.js';
import type { KubernetesProvider, RolloutResult } from '../../providers/kubernetes/types.js';

export const DEFAULT_ROLLOUT_TIMEOUT_S = 300;

/**
 * Waits for a deployment's rollout to finish, sending MCP progress (ready replicas of desired) as it
 * goes. Returns the readiness the caller reports; never throws on a failed rollout.
 */
export async function waitWithProgress(
  k8s: KubernetesProvider,
  namespace: string,
  name: string,
  ctx: ToolContext,
  timeoutSeconds: number,
  opening?: { message: string; desired: number },
): Promise<RolloutResult> {
  if (opening) await ctx.progress(0, Math.max(opening.desired, 1), opening.message).catch(() => undefined);
  let last = '';
  return k8s.waitForRollout(namespace, name, {
    timeoutMs: timeoutSeconds * 1000,
    signal: ctx.signal,
    pollMs: 250,
    onProgress: (d) => {
      const line = `${d.updatedReplicas} updated, ${d.availableReplicas}/${d.replicas} available`;
      if (line === last) return;
      last = line;
      ctx
        .progress(d.availableReplicas, Math.max(d.replicas, 1), `${namespace}/${name}: ${line}`)
        .catch(() => undefined);
    },
  });
}
