import type { KubeObject } from './types.js';

/** A minimal apps/v1 Deployment for seeding the emulator (labels app=<name>, one container "app"). */
export function deploymentObject(
  namespace: string,
  name: string,
  image: string,
  opts: {
    replicas?: number;
    labels?: Record<string, string>;
    progressDeadlineSeconds?: number;
    requests?: Record<string, string>;
  } = {},
): KubeObject {
  const labels = { app: name, ...opts.labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: opts.replicas ?? 2,
      ...(opts.progressDeadlineSeconds !== undefined
        ? { progressDeadlineSeconds: opts.progressDeadlineSeconds }
        : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'app', image, ...(opts.requests ? { resources: { requests: opts.requests } } : {}) },
          ],
        },
      },
    },
  };
}
