import type { KubeConfig } from '@kubernetes/client-node';
import { sdkLoaded } from '../sdk-loads.js';
import type { KubernetesProvider } from './types.js';

export interface KubernetesProviderOptions {
  /** A ready KubeConfig (tests, sandbox); otherwise one is loaded from `kubeconfigPath` or the default locations. */
  kubeConfig?: KubeConfig;
  kubeconfigPath?: string;
  context?: string;
  /** Namespaces day2 may touch; empty means all. */
  namespaces: string[];
  timeoutMs?: number;
}

/**
 * Builds the Kubernetes provider. @kubernetes/client-node is imported here, on first use, so that
 * start-up stays fast when no environment uses Kubernetes.
 */
export async function createKubernetesProvider(opts: KubernetesProviderOptions): Promise<KubernetesProvider> {
  // Through sdkLoaded, so that sdkImported('kubernetes') knows the SDK is now in this process.
  await sdkLoaded('kubernetes');
  const k8s = await import('@kubernetes/client-node');
  const { ClientNodeKubernetesProvider } = await import('./client-node-provider.js');
  let kc = opts.kubeConfig;
  if (!kc) {
    kc = new k8s.KubeConfig();
    if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromDefault();
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) throw new Error(`kubeconfig has no context "${opts.context}"`);
    kc.setCurrentContext(opts.context);
  }
  return new ClientNodeKubernetesProvider(k8s, kc, {
    namespaces: opts.namespaces,
    timeoutMs: opts.timeoutMs,
  });
}
