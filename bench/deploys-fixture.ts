/** Shared set-up of the deploys benchmarks: an emulated cluster and a Deps over it. */
import { Catalog } from '../src/catalog/catalog.js';
import { systemClock } from '../src/core/clock.js';
import { configSchema } from '../src/config/schema.js';
import type { Deps } from '../src/contract/deps.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import { BackendNotConfiguredError, type Backends } from '../src/providers/backends.js';
import { createKubernetesProvider } from '../src/providers/kubernetes/create-kubernetes-provider.js';
import type { KubernetesEmulator } from '../src/sandbox/kubernetes/emulator.js';
import type { Store } from '../src/store/store.js';
import type { ToolContext } from '../src/contract/define-tool.js';

/** A Deployment manifest as a GitOps repository would hold it. */
export function deploymentManifest(
  ns: string,
  name: string,
  i: number,
  replicas = 2,
): Record<string, unknown> {
  const labels = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name,
              image: `registry.acme.test/shop/${name}:1.${i % 7}.0`,
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'SERVICE_NAME', value: name },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
              resources: {
                requests: { cpu: '250m', memory: '256Mi' },
                limits: { cpu: '1000m', memory: '512Mi' },
              },
            },
          ],
        },
      },
    },
  };
}

export async function depsOver(
  k: KubernetesEmulator,
  namespaces: string[],
  extra: Record<string, unknown> = {},
): Promise<{ deps: Deps; ctx: ToolContext }> {
  const provider = await createKubernetesProvider({
    kubeConfig: await k.kubeConfig(),
    namespaces,
    timeoutMs: 30_000,
  });
  const config = configSchema.parse({
    environments: { prod: { tier: 'production', kubernetes: { namespaces }, ...extra } },
    backends: { timeout: 30_000 },
  });
  const backends = {
    has: (env: string, b: string) => env === 'prod' && b === 'kubernetes',
    kubernetes: () => provider,
    datadog: () => {
      throw new BackendNotConfiguredError('datadog', 'prod');
    },
    alertmanager: () => {
      throw new BackendNotConfiguredError('alertmanager', 'prod');
    },
    secrets: () => {
      throw new BackendNotConfiguredError('secrets-manager', 'prod');
    },
    registry: () => {
      throw new BackendNotConfiguredError('registry', 'prod');
    },
    postgres: undefined as never,
  } as Backends;
  const deps: Deps = {
    config,
    store: undefined as unknown as Store,
    clock: systemClock,
    log: silentLogger,
    redactor: new Redactor(),
    backends,
    catalog: Catalog.empty(),
  };
  const ctx: ToolContext = {
    deps,
    principal: { id: 'bench', transport: 'internal' },
    signal: new AbortController().signal,
    progress: async () => {},
    callId: 'bench',
  };
  return { deps, ctx };
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}
