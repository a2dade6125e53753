/**
 * The annotations day2 reads from Backstage descriptors, in one place. Each entry says what the
 * value means and how it is written; `parse` turns the text into a value or returns an error
 * message (the caller adds the file and path).
 */

/** Where a service runs on Kubernetes in one environment (or in every one: env `*`). */
export interface WorkloadRef {
  env: string;
  namespace: string;
  name: string;
}

/** A secret a service uses: in AWS Secrets Manager, or a Kubernetes Secret. */
export interface SecretRef {
  store: 'aws' | 'k8s';
  /** Secret name; may contain `{env}`, replaced by the environment name. */
  name: string;
  /** Kubernetes namespace (store `k8s` only); may contain `{env}`. */
  namespace?: string;
}

export type ServiceTier = 'critical' | 'standard';

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const K8S_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const ENV_NAME = /^[a-z][a-z0-9-]*$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@{}-]+$/;

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export const ANNOTATIONS = {
  /**
   * `[env=]namespace/deployment`, comma separated. An entry without `env=` applies to every
   * environment; an entry with one wins for that environment.
   * Example: `checkout/checkout, dev=sandbox/checkout`.
   */
  kubernetesWorkload: 'day2.dev/kubernetes-workload',
  /** Backstage's Kubernetes plugin id: workloads labelled `backstage.io/kubernetes-id=<value>`. */
  kubernetesId: 'backstage.io/kubernetes-id',
  /**
   * Comma list of secrets. A plain name is an AWS Secrets Manager secret (`{env}/payments/db`);
   * `k8s:<namespace>/<name>` is a Kubernetes Secret. `{env}` is replaced by the environment.
   */
  secrets: 'day2.dev/secrets',
  /** Comma list of database keys, as named under `environments.<env>.databases` in day2.yaml. */
  database: 'day2.dev/database',
  /** PostgreSQL role the service connects as (the role a credential rotation changes). */
  dbRole: 'day2.dev/db-role',
  /** URL of the service's runbook (also taken from links titled or typed "runbook"). */
  runbook: 'day2.dev/runbook',
  /** `critical` or `standard`; critical services get stricter policy and wider impact reports. */
  tier: 'day2.dev/tier',
  /** Datadog `service:` tag value when it differs from the entity name. */
  datadogService: 'day2.dev/datadog-service',
  /** PagerDuty service id, passed through to incident tools untouched. */
  pagerdutyServiceId: 'pagerduty.com/service-id',
  /** Group annotation: Slack channel of the team (`#payments-oncall`). */
  slackChannel: 'day2.dev/slack-channel',
} as const;

/** Kubernetes label and annotation keys read when merging live workloads into the catalog. */
export const KUBERNETES_LABELS = {
  name: 'app.kubernetes.io/name',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  owner: 'day2.dev/owner',
  backstageId: 'backstage.io/kubernetes-id',
} as const;

export function parseWorkloads(text: string): Parsed<WorkloadRef[]> {
  const out: WorkloadRef[] = [];
  for (const entry of list(text)) {
    let env = '*';
    let target = entry;
    const eq = entry.indexOf('=');
    if (eq >= 0) {
      env = entry.slice(0, eq).trim();
      target = entry.slice(eq + 1).trim();
      if (!ENV_NAME.test(env)) return { ok: false, error: `"${env}" is not an environment name` };
    }
    const [namespace, name, extra] = target.split('/');
    if (extra !== undefined || !namespace || !name || !K8S_NAME.test(namespace) || !K8S_NAME.test(name)) {
      return {
        ok: false,
        error: `expected [env=]namespace/deployment such as checkout/checkout, got "${entry}"`,
      };
    }
    out.push({ env, namespace, name });
  }
  if (out.length === 0) return { ok: false, error: 'expected at least one namespace/deployment' };
  return { ok: true, value: out };
}

export function parseSecrets(text: string): Parsed<SecretRef[]> {
  const out: SecretRef[] = [];
  for (const entry of list(text)) {
    if (entry.startsWith('k8s:')) {
      const [namespace, name, extra] = entry.slice(4).split('/');
      if (extra !== undefined || !namespace || !name) {
        return { ok: false, error: `expected k8s:<namespace>/<name>, got "${entry}"` };
      }
      out.push({ store: 'k8s', namespace, name });
    } else {
      if (!SECRET_NAME.test(entry)) return { ok: false, error: `"${entry}" is not a valid secret name` };
      out.push({ store: 'aws', name: entry });
    }
  }
  if (out.length === 0) return { ok: false, error: 'expected at least one secret name' };
  return { ok: true, value: out };
}

export function parseDatabases(text: string): Parsed<string[]> {
  const keys = list(text);
  const bad = keys.find((k) => !/^[A-Za-z0-9_-]+$/.test(k));
  if (bad !== undefined)
    return { ok: false, error: `"${bad}" is not a database key (letters, digits, - and _)` };
  if (keys.length === 0) return { ok: false, error: 'expected at least one database key' };
  return { ok: true, value: keys };
}

export function parseTier(text: string): Parsed<ServiceTier> {
  const t = text.trim().toLowerCase();
  if (t === 'critical' || t === 'standard') return { ok: true, value: t };
  return { ok: false, error: `expected critical or standard, got "${text}"` };
}

export function parseUrl(text: string): Parsed<string> {
  try {
    const u = new URL(text.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return { ok: true, value: u.toString() };
  } catch {
    return { ok: false, error: `expected an http(s) URL, got "${text}"` };
  }
}

/** Replaces `{env}` in a secret name or namespace. */
export function resolveSecretRef(ref: SecretRef, env: string): SecretRef {
  const sub = (s: string) => s.replaceAll('{env}', env);
  return ref.store === 'k8s'
    ? { store: 'k8s', name: sub(ref.name), namespace: sub(ref.namespace ?? '') }
    : { store: 'aws', name: sub(ref.name) };
}
