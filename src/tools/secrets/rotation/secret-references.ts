import type { KubeResource, KubernetesProvider, SecretInfo } from '../../../providers/kubernetes/types.js';

/** A deployment that reads a Kubernetes Secret, and how. */
export interface SecretUse {
  namespace: string;
  deployment: string;
  secret: string;
  via: 'secretKeyRef' | 'envFrom' | 'volume';
}

interface PodSpecLike {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  volumes?: {
    secret?: { secretName?: string };
    projected?: { sources?: { secret?: { name?: string } }[] };
  }[];
}
interface ContainerLike {
  env?: { valueFrom?: { secretKeyRef?: { name?: string } } }[];
  envFrom?: { secretRef?: { name?: string } }[];
}

/** The Secrets a Deployment's pod template reads: env secretKeyRef, envFrom secretRef, secret volumes. */
export function secretUsesOf(deployment: KubeResource): SecretUse[] {
  const ns = deployment.metadata.namespace ?? 'default';
  const name = deployment.metadata.name;
  const spec: PodSpecLike =
    (deployment.spec as { template?: { spec?: PodSpecLike } } | undefined)?.template?.spec ?? {};
  const seen = new Set<string>();
  const out: SecretUse[] = [];
  const add = (secret: string | undefined, via: SecretUse['via']) => {
    if (!secret || seen.has(`${secret}|${via}`)) return;
    seen.add(`${secret}|${via}`);
    out.push({ namespace: ns, deployment: name, secret, via });
  };
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const e of c.env ?? []) add(e.valueFrom?.secretKeyRef?.name, 'secretKeyRef');
    for (const e of c.envFrom ?? []) add(e.secretRef?.name, 'envFrom');
  }
  for (const v of spec.volumes ?? []) {
    add(v.secret?.secretName, 'volume');
    for (const s of v.projected?.sources ?? []) add(s.secret?.name, 'volume');
  }
  return out;
}

/** One environment's Kubernetes view: every Secret (metadata only) and who reads it. */
export interface KubeSecretView {
  secrets: SecretInfo[];
  uses: SecretUse[];
}

/** Reads Secrets and Deployments of every configured namespace (metadata and pod templates only). */
export async function readKubeSecrets(k8s: KubernetesProvider): Promise<KubeSecretView> {
  const perNs = await Promise.all(
    k8s.namespaces.map(async (ns) => {
      const [secrets, deployments] = await Promise.all([
        k8s.listSecrets(ns),
        k8s.listObjects('apps/v1', 'Deployment', ns),
      ]);
      return { secrets, uses: deployments.flatMap(secretUsesOf) };
    }),
  );
  return { secrets: perNs.flatMap((p) => p.secrets), uses: perNs.flatMap((p) => p.uses) };
}

/** The annotation that says a Kubernetes Secret is a synced copy of an AWS secret (`aws:<name>`). */
export const SYNCED_FROM = 'day2.dev/synced-from';
