import { stringify } from 'yaml';

/** What a kubeconfig needs to reach one cluster as one user. */
export interface KubeconfigTarget {
  /** The name of the cluster, the user and the context. */
  name: string;
  server: string;
  /** PEM of the CA that signed the server's certificate (HTTPS servers). */
  ca?: string;
  token: string;
  /** The context's default namespace. */
  namespace?: string;
}

/**
 * A kubeconfig file (YAML) with one cluster, one user with a bearer token and one context, current:
 * what kubectl, client-go and @kubernetes/client-node read. It holds the token, so write it 0600.
 */
export function kubeconfigYaml(t: KubeconfigTarget): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: t.name,
        cluster: {
          server: t.server,
          ...(t.ca ? { 'certificate-authority-data': Buffer.from(t.ca).toString('base64') } : {}),
        },
      },
    ],
    users: [{ name: t.name, user: { token: t.token } }],
    contexts: [
      {
        name: t.name,
        context: { cluster: t.name, user: t.name, ...(t.namespace ? { namespace: t.namespace } : {}) },
      },
    ],
    'current-context': t.name,
    preferences: {},
  });
}
