import { X509Certificate } from 'node:crypto';
import type { Deps } from '../../../contract/deps.js';
import { gather, type Gap } from '../../context/gather.js';
import type { SecretMetadata } from '../../../providers/secrets-manager/types.js';
import { readKubeSecrets, type KubeSecretView } from './secret-references.js';
import { SecretUsage } from './usage.js';
import { activeKey, activeMarkers } from './rotation-store.js';

export type CredentialStatus = 'ok' | 'due_soon' | 'overdue' | 'rotation_in_progress' | 'pending_left_behind';

/** One credential in the inventory: metadata only, never a value (nor a TLS key). */
export interface CredentialRow {
  env: string;
  name: string;
  kind: 'aws-secret' | 'tls-certificate';
  owner?: string;
  used_by: string[];
  last_rotated?: string;
  next_due?: string;
  status: CredentialStatus;
  rotation_id?: string;
  /** TLS: the certificate's subject and expiry. */
  subject?: string;
  expires?: string;
}

const DAY = 86_400_000;

/** Every credential of every (or one) environment with its owner, users, age and status. */
export async function collectCredentials(
  deps: Deps,
  opts: { env?: string } = {},
): Promise<{ rows: CredentialRow[]; gaps: Gap[] }> {
  const envs = opts.env ? [opts.env] : Object.keys(deps.config.environments);
  const markers = await activeMarkers(deps.store);
  const tasks = envs.flatMap((env) => [
    ...(deps.backends.has(env, 'secrets-manager')
      ? [{ backend: 'secrets-manager', env, run: () => deps.backends.secrets(env).listSecrets() }]
      : []),
    ...(deps.backends.has(env, 'kubernetes')
      ? [{ backend: 'kubernetes', env, run: () => readKubeSecrets(deps.backends.kubernetes(env)) }]
      : []),
  ]);
  const { results, gaps } = await gather<SecretMetadata[] | KubeSecretView>(
    tasks,
    deps.config.backends.timeout,
  );
  const rows: CredentialRow[] = [];
  const now = deps.clock.now().getTime();
  const { max_age_days: maxAge, warn_days: warn } = deps.config.rotation;
  for (const env of envs) {
    const kube = results.find((r) => r.env === env && r.backend === 'kubernetes')?.value as
      KubeSecretView | undefined;
    const aws = results.find((r) => r.env === env && r.backend === 'secrets-manager')?.value as
      SecretMetadata[] | undefined;
    const usage = new SecretUsage(deps, env, kube);
    for (const m of aws ?? []) {
      if (m.deletedDate) continue;
      const users = usage.awsUsers(m.name);
      const tagged = m.tags['day2:last-rotated'];
      const last =
        latest(m.lastRotatedDate?.getTime(), tagged ? Date.parse(tagged) : undefined) ??
        m.createdDate?.getTime();
      const days =
        m.rotationEnabled && m.rotationRules?.automaticallyAfterDays
          ? m.rotationRules.automaticallyAfterDays
          : maxAge;
      const due = last !== undefined ? last + days * DAY : undefined;
      const rotation = markers.get(activeKey(env, m.name));
      const pending = Object.values(m.versionStages).some(
        (st) => st.includes('AWSPENDING') && !st.includes('AWSCURRENT'),
      );
      rows.push({
        env,
        name: m.name,
        kind: 'aws-secret',
        owner: ownerOf(
          deps,
          users.map((u) => u.service),
          m.tags.team,
        ),
        used_by: users.map((u) => u.service),
        ...(last !== undefined ? { last_rotated: new Date(last).toISOString() } : {}),
        ...(due !== undefined ? { next_due: new Date(due).toISOString() } : {}),
        status: rotation
          ? 'rotation_in_progress'
          : pending
            ? 'pending_left_behind'
            : dueStatus(due, now, warn),
        ...(rotation ? { rotation_id: rotation } : {}),
      });
    }
    for (const s of kube?.secrets ?? []) {
      if (s.type !== 'kubernetes.io/tls' || !s.tlsCrt) continue;
      const users = usage.k8sUsers(s.namespace, s.name);
      let cert: X509Certificate | undefined;
      try {
        cert = new X509Certificate(s.tlsCrt);
      } catch {
        cert = undefined;
      }
      const expires = cert ? Date.parse(cert.validTo) : undefined;
      rows.push({
        env,
        name: `k8s:${s.namespace}/${s.name}`,
        kind: 'tls-certificate',
        owner: ownerOf(
          deps,
          users.map((u) => u.service),
          s.labels['day2.dev/owner'],
        ),
        used_by: users.map((u) => u.service),
        ...(cert
          ? {
              last_rotated: new Date(cert.validFrom).toISOString(),
              subject: cert.subject.replace(/\n/g, ', '),
            }
          : {}),
        ...(expires !== undefined
          ? { next_due: new Date(expires).toISOString(), expires: new Date(expires).toISOString() }
          : {}),
        status: dueStatus(expires, now, warn),
      });
    }
  }
  rows.sort(
    (a, b) =>
      statusRank(a.status) - statusRank(b.status) ||
      (a.next_due ?? '').localeCompare(b.next_due ?? '') ||
      a.env.localeCompare(b.env) ||
      a.name.localeCompare(b.name),
  );
  return { rows, gaps };
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  const v = [a, b].filter((x): x is number => x !== undefined && !Number.isNaN(x));
  return v.length ? Math.max(...v) : undefined;
}

function dueStatus(due: number | undefined, now: number, warnDays: number): CredentialStatus {
  if (due === undefined) return 'ok';
  if (due <= now) return 'overdue';
  return due - now <= warnDays * DAY ? 'due_soon' : 'ok';
}

function statusRank(s: CredentialStatus): number {
  return { rotation_in_progress: 0, pending_left_behind: 1, overdue: 2, due_soon: 3, ok: 4 }[s];
}

function ownerOf(
  deps: Pick<Deps, 'catalog'>,
  services: string[],
  fallback: string | undefined,
): string | undefined {
  for (const s of services) {
    const o = deps.catalog.service(s)?.owner;
    if (o) return o;
  }
  return fallback;
}
