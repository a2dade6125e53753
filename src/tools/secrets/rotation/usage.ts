import type { Deps } from '../../../contract/deps.js';
import type { KubeSecretView } from './secret-references.js';
import { SYNCED_FROM } from './secret-references.js';

/** A workload that uses a secret, with the service it belongs to and why day2 believes so. */
export interface SecretUser {
  service: string;
  namespace?: string;
  deployment?: string;
  /** `catalog`, `secretKeyRef`, `envFrom` or `volume` (through a synced Kubernetes Secret). */
  via: string[];
}

/** Index of who uses which secret in one environment: catalog annotations plus Kubernetes references. */
export class SecretUsage {
  private readonly byAws = new Map<string, Map<string, SecretUser>>();
  private readonly byK8s = new Map<string, Map<string, SecretUser>>();

  constructor(deps: Pick<Deps, 'catalog'>, env: string, kube?: KubeSecretView) {
    for (const svc of deps.catalog.services()) {
      for (const ref of deps.catalog.secretsFor(svc.id, env)) {
        const w = deps.catalog.workloadFor(svc.id, env);
        const user = { service: svc.id, namespace: w?.namespace, deployment: w?.name, via: ['catalog'] };
        if (ref.store === 'aws') this.add(this.byAws, ref.name, user);
        else this.add(this.byK8s, `${ref.namespace}/${ref.name}`, user);
      }
    }
    if (!kube) return;
    const syncedFrom = new Map<string, string>();
    for (const s of kube.secrets) {
      const src = s.annotations[SYNCED_FROM];
      if (src?.startsWith('aws:')) syncedFrom.set(`${s.namespace}/${s.name}`, src.slice(4));
    }
    for (const u of kube.uses) {
      const svc = deps.catalog.resolver.workloadService(env, u.namespace, u.deployment)?.id ?? u.deployment;
      const user = { service: svc, namespace: u.namespace, deployment: u.deployment, via: [u.via] };
      const key = `${u.namespace}/${u.secret}`;
      this.add(this.byK8s, key, user);
      const aws = syncedFrom.get(key);
      if (aws) this.add(this.byAws, aws, user);
    }
  }

  private add(index: Map<string, Map<string, SecretUser>>, key: string, user: SecretUser): void {
    let users = index.get(key);
    if (!users) {
      users = new Map<string, SecretUser>();
      index.set(key, users);
    }
    const prior = users.get(user.service);
    if (!prior) users.set(user.service, { ...user, via: [...user.via] });
    else {
      prior.namespace ??= user.namespace;
      prior.deployment ??= user.deployment;
      for (const v of user.via) if (!prior.via.includes(v)) prior.via.push(v);
    }
  }

  awsUsers(name: string): SecretUser[] {
    return [...(this.byAws.get(name)?.values() ?? [])].sort((a, b) => a.service.localeCompare(b.service));
  }

  k8sUsers(namespace: string, name: string): SecretUser[] {
    return [...(this.byK8s.get(`${namespace}/${name}`)?.values() ?? [])].sort((a, b) =>
      a.service.localeCompare(b.service),
    );
  }
}
