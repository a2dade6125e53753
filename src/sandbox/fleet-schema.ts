import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CPU_QUANTITY, MEMORY_QUANTITY, parseCpu, parseMemory } from './fleet/quantity.js';
import { isFleetTime, resolveFleetTime } from './fleet/relative-time.js';

/**
 * The sandbox fleet file: a whole company's Day-2 world as data. It is the contract between the
 * demo data and the emulators (Kubernetes, Datadog, Secrets Manager, Alertmanager seeding).
 * Times are written relative to a clock (`-12m`, `-120d`, `+30d`, `now`) and resolved to Dates
 * when the file is parsed with `createFleetSchema(now)`; derived facts (pods, endpoints, usage,
 * mounts) are filled in so that consumers never recompute them.
 */

const NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const k8sName = z.string().regex(NAME, 'expected a Kubernetes name (lower-case letters, digits, - and .)');
const stringMap = z.record(z.string(), z.string());
// YAML reads `cpu: 2` as a number; quantities are kept as Kubernetes strings.
const quantity = (re: RegExp, message: string) =>
  z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(re, message));
const cpu = quantity(CPU_QUANTITY, 'expected a CPU quantity such as 250m or 2');
const memory = quantity(MEMORY_QUANTITY, 'expected a memory quantity such as 512Mi or 2Gi');
const IMAGE = /^[a-z0-9][a-z0-9._\-/:]*:[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?$/;
const image = z
  .string()
  .regex(IMAGE, 'expected an image such as registry.acme.test/shop/checkout:2.8.0@sha256:<64 hex>');

/** The part of an image reference before `@sha256:`: `repo:tag`. */
export function imageWithoutDigest(ref: string): string {
  const at = ref.indexOf('@');
  return at < 0 ? ref : ref.slice(0, at);
}

function hashOf(text: string, length: number): string {
  // Kubernetes pod-template hashes use the alphabet without vowels; so do we.
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

function ipOf(text: string): string {
  const b = createHash('sha256').update(text).digest();
  return `10.${(b[0]! % 200) + 20}.${b[1]!}.${(b[2]! % 250) + 2}`;
}

/** Builds the schema; `now` is the clock every relative time is resolved against. */
export function createFleetSchema(now: Date) {
  const time = z.string().transform((t, ctx): Date => {
    if (!isFleetTime(t)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a time such as -12m, -3d, +30d, now or 2026-01-01T00:00:00Z',
      });
      return z.NEVER;
    }
    return resolveFleetTime(t, now);
  });

  const envVar = z
    .strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'expected an environment variable name')
        .describe('variable name'),
      value: z.string().optional().describe('literal value'),
      secret_key_ref: z
        .strictObject({ name: k8sName, key: z.string() })
        .optional()
        .describe('value from a key of a Kubernetes Secret in the same namespace'),
      config_map_key_ref: z
        .strictObject({ name: k8sName, key: z.string() })
        .optional()
        .describe('value from a key of a ConfigMap in the same namespace'),
    })
    .refine(
      (v) => [v.value, v.secret_key_ref, v.config_map_key_ref].filter((x) => x !== undefined).length === 1,
      'give exactly one of value, secret_key_ref, config_map_key_ref',
    );

  const envFrom = z
    .strictObject({
      secret: k8sName.optional().describe('all keys of this Secret become variables'),
      config_map: k8sName.optional().describe('all keys of this ConfigMap become variables'),
    })
    .refine(
      (v) => (v.secret === undefined) !== (v.config_map === undefined),
      'give exactly one of secret, config_map',
    );

  const volume = z
    .strictObject({
      name: k8sName.describe('volume name'),
      mount_path: z.string().startsWith('/').describe('where the container sees it'),
      read_only: z.boolean().default(true).describe('mounted read-only'),
      secret: k8sName.optional().describe('Secret mounted as files'),
      config_map: k8sName.optional().describe('ConfigMap mounted as files'),
      pvc: k8sName.optional().describe('PersistentVolumeClaim mounted'),
    })
    .refine(
      (v) => [v.secret, v.config_map, v.pvc].filter((x) => x !== undefined).length === 1,
      'give exactly one of secret, config_map, pvc',
    );

  const podInput = z.strictObject({
    name: k8sName.optional().describe('pod name; derived from the deployment when absent'),
    phase: z
      .enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'])
      .default('Running')
      .describe('pod phase'),
    ready: z.boolean().default(true).describe('all containers ready'),
    restarts: z.number().int().min(0).default(0).describe('container restart count'),
    reason: z
      .string()
      .optional()
      .describe('waiting/terminated reason, e.g. CrashLoopBackOff, OOMKilled, ImagePullBackOff'),
    message: z.string().optional().describe('last state message (e.g. the last log line before the crash)'),
    last_restart: time.optional().describe('when the container last restarted'),
    started: time.optional().describe('pod start time; default: the deployment time'),
    image: image.optional().describe('image actually running; default: the deployment image'),
    node: z.string().optional().describe('node name; derived when absent'),
  });

  const revision = z.strictObject({
    revision: z.number().int().min(1).describe('ReplicaSet revision number'),
    image: image.describe('image of that revision'),
    deployed: time.describe('when that revision rolled out'),
    change_cause: z.string().optional().describe('kubernetes.io/change-cause of that revision'),
  });

  const nullableMap = z.record(z.string(), z.string().nullable());
  const edit = z.strictObject({
    manager: z
      .string()
      .min(1)
      .describe('field manager of the hand edit as the API server records it, e.g. kubectl-edit'),
    at: time.describe('when the edit was made'),
    was: z
      .strictObject({
        replicas: z.number().int().min(0).optional().describe('spec.replicas before the edit'),
        env: nullableMap.optional().describe('container variables before the edit (null: not set)'),
        annotations: nullableMap
          .optional()
          .describe('Deployment annotations before the edit (null: not set)'),
      })
      .describe('what the edited fields held before; everything else stayed as the manager left it'),
  });

  const deployment = z
    .strictObject({
      namespace: k8sName.describe('Kubernetes namespace'),
      name: k8sName.describe('Deployment name'),
      labels: stringMap
        .default({})
        .describe(
          'labels of the Deployment and its pod template; app.kubernetes.io/name defaults to the name',
        ),
      annotations: stringMap
        .default({})
        .describe('annotations of the Deployment (e.g. day2.dev/hand-edited on drifted objects)'),
      image: image.describe('image of the single application container, with tag and digest'),
      container: k8sName.optional().describe('container name; default the deployment name'),
      port: z.number().int().min(1).max(65535).default(8080).describe('container port'),
      replicas: z.number().int().min(0).describe('desired replicas (spec.replicas)'),
      revision: z
        .number()
        .int()
        .min(1)
        .default(1)
        .describe('current revision (deployment.kubernetes.io/revision)'),
      deployed: time.describe('when the current revision rolled out'),
      change_cause: z.string().optional().describe('kubernetes.io/change-cause of the current revision'),
      manager: z
        .string()
        .min(1)
        .optional()
        .describe(
          'field manager of the current revision (metadata.managedFields); default from app.kubernetes.io/managed-by: argocd-controller, helm, else kubectl-client-side-apply',
        ),
      edited: edit.optional().describe('a hand edit made after the current revision rolled out'),
      history: z.array(revision).default([]).describe('previous revisions, newest first'),
      env: z.array(envVar).default([]).describe('container environment'),
      env_from: z.array(envFrom).default([]).describe('container envFrom sources'),
      volumes: z.array(volume).default([]).describe('volumes and their mounts'),
      resources: z
        .strictObject({
          requests: z
            .strictObject({ cpu: cpu.describe('CPU request'), memory: memory.describe('memory request') })
            .describe('resource requests'),
          limits: z
            .strictObject({
              cpu: cpu.optional().describe('CPU limit'),
              memory: memory.optional().describe('memory limit'),
            })
            .default({})
            .describe('resource limits'),
        })
        .describe('container resources'),
      pods: z
        .array(podInput)
        .optional()
        .describe(
          'pods, when they must be described (crash loops, pending); derived from replicas otherwise',
        ),
    })
    .superRefine((d, ctx) => {
      if (d.edited && d.edited.at.getTime() < d.deployed.getTime())
        ctx.addIssue({
          code: 'custom',
          path: ['edited', 'at'],
          message: 'expected a time after the current revision was deployed',
        });
      for (const [i, h] of d.history.entries()) {
        if (h.revision >= d.revision)
          ctx.addIssue({
            code: 'custom',
            path: ['history', i, 'revision'],
            message: `expected a revision below the current one (${d.revision})`,
          });
        if (h.deployed.getTime() > d.deployed.getTime())
          ctx.addIssue({
            code: 'custom',
            path: ['history', i, 'deployed'],
            message: 'expected a time before the current revision was deployed',
          });
      }
    })
    .transform((d) => {
      const labels = { 'app.kubernetes.io/name': d.name, ...d.labels };
      const rsHash = hashOf(`${d.namespace}/${d.name}/${d.revision}`, 10);
      const inputs = d.pods ?? Array.from({ length: d.replicas }, () => podInput.parse({}));
      const pods = inputs.map((p, i) => {
        const name =
          p.name ?? `${d.name}-${rsHash}-${hashOf(`${d.namespace}/${d.name}/${d.revision}/${i}`, 5)}`;
        return {
          ...p,
          name,
          started: p.started ?? d.deployed,
          image: p.image ?? d.image,
          node: p.node ?? `node-${hashOf(name, 3)}`,
          ip: ipOf(`${d.namespace}/${name}`),
          labels: { ...labels, 'pod-template-hash': rsHash },
        };
      });
      return {
        ...d,
        labels,
        container: d.container ?? d.name,
        selector: { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] },
        pod_template_hash: rsHash,
        pods,
        ready_replicas: pods.filter((p) => p.ready && p.phase === 'Running').length,
      };
    });

  const hpa = z.strictObject({
    namespace: k8sName.describe('namespace of the HPA and its target'),
    name: k8sName.describe('HPA name'),
    target: k8sName.describe('name of the Deployment it scales'),
    min_replicas: z.number().int().min(1).describe('spec.minReplicas'),
    max_replicas: z.number().int().min(1).describe('spec.maxReplicas'),
    cpu_target_percent: z.number().int().min(1).max(100).describe('average CPU utilization target'),
    current_cpu_percent: z.number().int().min(0).optional().describe('observed average CPU utilization'),
  });

  const awsSecret = z.strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'expected a Secrets Manager name such as prod/payment-service/db')
      .describe('secret name'),
    description: z.string().optional().describe('secret description'),
    value: z
      .union([z.string(), z.record(z.string(), z.union([z.string(), z.number()]))], {
        error: 'expected a string or a mapping of strings and numbers',
      })
      .describe(
        'SecretString; a mapping is stored as JSON ({username, password, host, port, dbname} for databases)',
      ),
    created: time.describe('CreatedDate'),
    last_rotated: time.optional().describe('LastRotatedDate; default the creation time'),
    last_accessed: time.optional().describe('LastAccessedDate'),
    rotation: z
      .strictObject({
        enabled: z.boolean().describe('RotationEnabled'),
        automatically_after_days: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .optional()
          .describe('RotationRules.AutomaticallyAfterDays'),
        lambda_arn: z.string().optional().describe('RotationLambdaARN'),
      })
      .default({ enabled: false })
      .describe('rotation configuration'),
    database: z
      .string()
      .optional()
      .describe('database key (environments.<env>.databases) whose role this secret holds'),
    tags: stringMap.default({}).describe('secret tags'),
  });

  const k8sSecret = z.strictObject({
    namespace: k8sName.describe('namespace'),
    name: k8sName.describe('Secret name'),
    type: z
      .string()
      .default('Opaque')
      .describe('Secret type: Opaque, kubernetes.io/tls, kubernetes.io/dockerconfigjson, ...'),
    data: stringMap.describe('keys and plain-text values (the emulator base64-encodes them)'),
    labels: stringMap.default({}).describe('labels'),
    annotations: stringMap.default({}).describe('annotations'),
    created: time.describe('creationTimestamp'),
  });

  const configMap = z.strictObject({
    namespace: k8sName.describe('namespace'),
    name: k8sName.describe('ConfigMap name'),
    data: stringMap.describe('keys and values'),
    labels: stringMap.default({}).describe('labels'),
    created: time.describe('creationTimestamp'),
  });

  const k8sService = z.strictObject({
    namespace: k8sName.describe('namespace'),
    name: k8sName.describe('Service name'),
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP').describe('Service type'),
    selector: stringMap.describe('pod selector; endpoints are the ready pods it matches'),
    ports: z
      .array(
        z.strictObject({
          port: z.number().int().min(1).max(65535).describe('service port'),
          target_port: z.number().int().min(1).max(65535).describe('container port'),
        }),
      )
      .default([{ port: 80, target_port: 8080 }])
      .describe('ports'),
    labels: stringMap.default({}).describe('labels'),
  });

  const pvc = z.strictObject({
    namespace: k8sName.describe('namespace'),
    name: k8sName.describe('PersistentVolumeClaim name'),
    storage: memory.describe('requested size'),
    storage_class: z.string().default('gp3').describe('storageClassName'),
    phase: z
      .enum(['Bound', 'Pending', 'Lost'])
      .default('Bound')
      .describe('status.phase; Pending means unbound'),
    access_modes: z.array(z.string()).default(['ReadWriteOnce']).describe('accessModes'),
    created: time.describe('creationTimestamp'),
  });

  const roleBinding = z.strictObject({
    namespace: k8sName.describe('namespace'),
    name: k8sName.describe('RoleBinding name'),
    role: z
      .strictObject({
        kind: z.enum(['ClusterRole', 'Role']).describe('roleRef.kind'),
        name: z.string().describe('roleRef.name'),
      })
      .describe('roleRef'),
    subjects: z
      .array(
        z.strictObject({
          kind: z.enum(['User', 'Group', 'ServiceAccount']).describe('subject kind'),
          name: z.string().describe('subject name'),
          namespace: z.string().optional().describe('ServiceAccount namespace'),
        }),
      )
      .min(1)
      .describe('subjects'),
    labels: stringMap.default({}).describe('labels (app.kubernetes.io/managed-by: day2 marks day2 grants)'),
    annotations: stringMap.default({}).describe('annotations (day2 grants carry day2.dev/expires-at)'),
    created: time.describe('creationTimestamp'),
  });

  const monitor = z.strictObject({
    id: z.number().int().min(1).describe('Datadog monitor id'),
    name: z.string().describe('monitor name'),
    type: z.string().default('metric alert').describe('monitor type'),
    query: z.string().describe('monitor query'),
    message: z.string().default('').describe('notification message'),
    tags: z.array(z.string()).describe('tags, including service:<name> and env:<env>'),
    overall_state: z
      .enum(['OK', 'Alert', 'Warn', 'No Data', 'Ignored', 'Skipped', 'Unknown'])
      .describe('overall_state'),
    state_since: time.optional().describe('when the monitor entered its current state'),
    priority: z.number().int().min(1).max(5).optional().describe('priority 1 (highest) to 5'),
    thresholds: z
      .strictObject({
        critical: z.number().describe('critical threshold'),
        warning: z.number().optional().describe('warning threshold'),
      })
      .describe('options.thresholds'),
    created: time.describe('creation time'),
  });

  const alert = z.strictObject({
    labels: z
      .record(z.string(), z.string())
      .refine(
        (l) => ['alertname', 'service', 'env', 'severity'].every((k) => typeof l[k] === 'string'),
        'expected labels alertname, service, env and severity',
      )
      .describe('alert labels; alertname, service, env and severity are required'),
    annotations: stringMap
      .default({})
      .describe('summary, description, runbook_url; text from here is untrusted data'),
    starts_at: time.describe('startsAt'),
    ends_at: time.optional().describe('endsAt; absent while firing'),
    generator_url: z.string().optional().describe('generatorURL'),
  });

  const podMetric = z.strictObject({
    namespace: k8sName.describe('namespace'),
    deployment: k8sName.describe('Deployment whose pods this describes'),
    cpu: cpu.describe('average CPU usage per pod'),
    memory: memory.describe('average memory usage per pod'),
  });

  const database = z.strictObject({
    database: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'expected a PostgreSQL database name')
      .describe('PostgreSQL database name in this environment'),
    host: z.string().default('127.0.0.1').describe('host'),
    port: z.number().int().default(5432).describe('port'),
    owner_role: z.string().optional().describe('role owning the schema (migrations run as it)'),
  });

  const environment = z
    .strictObject({
      tier: z.enum(['production', 'staging', 'development']).describe('environment tier'),
      aws_region: z.string().default('eu-west-1').describe('AWS region of its Secrets Manager'),
      namespaces: z.array(k8sName).min(1).describe('Kubernetes namespaces'),
      deployments: z.array(deployment).default([]).describe('Deployments'),
      hpas: z.array(hpa).default([]).describe('HorizontalPodAutoscalers'),
      secrets: z
        .strictObject({
          aws: z.array(awsSecret).default([]).describe('AWS Secrets Manager secrets'),
          k8s: z.array(k8sSecret).default([]).describe('Kubernetes Secrets'),
        })
        .default({ aws: [], k8s: [] })
        .describe('secrets'),
      configmaps: z.array(configMap).default([]).describe('ConfigMaps'),
      services: z.array(k8sService).default([]).describe('Kubernetes Services'),
      pvcs: z.array(pvc).default([]).describe('PersistentVolumeClaims'),
      rolebindings: z.array(roleBinding).default([]).describe('RoleBindings'),
      monitors: z.array(monitor).default([]).describe('Datadog monitors'),
      alerts: z.array(alert).default([]).describe('Alertmanager alerts'),
      metrics: z.array(podMetric).default([]).describe('pod metrics per Deployment (metrics.k8s.io)'),
      databases: z.record(z.string(), database).default({}).describe('database key → PostgreSQL database'),
    })
    .superRefine((env, ctx) => {
      const ns = new Set(env.namespaces);
      const key = (n: string, m: string) => `${n}/${m}`;
      const deployments = new Set<string>();
      const inNs = (kind: string, list: { namespace: string }[]) =>
        list.forEach((o, i) => {
          if (!ns.has(o.namespace))
            ctx.addIssue({
              code: 'custom',
              path: [kind, i, 'namespace'],
              message: `namespace ${o.namespace} is not listed in namespaces`,
            });
        });
      inNs('deployments', env.deployments);
      inNs('hpas', env.hpas);
      inNs('configmaps', env.configmaps);
      inNs('services', env.services);
      inNs('pvcs', env.pvcs);
      inNs('rolebindings', env.rolebindings);
      inNs('metrics', env.metrics);
      env.secrets.k8s.forEach((o, i) => {
        if (!ns.has(o.namespace))
          ctx.addIssue({
            code: 'custom',
            path: ['secrets', 'k8s', i, 'namespace'],
            message: `namespace ${o.namespace} is not listed in namespaces`,
          });
      });
      const secrets = new Set(env.secrets.k8s.map((s) => key(s.namespace, s.name)));
      const configmaps = new Set(env.configmaps.map((c) => key(c.namespace, c.name)));
      const claims = new Set(env.pvcs.map((p) => key(p.namespace, p.name)));
      env.deployments.forEach((d, i) => {
        const k = key(d.namespace, d.name);
        if (deployments.has(k))
          ctx.addIssue({
            code: 'custom',
            path: ['deployments', i, 'name'],
            message: `deployment ${k} is listed twice`,
          });
        deployments.add(k);
        const need = (set: Set<string>, name: string | undefined, what: string, path: PropertyKey[]) => {
          if (name !== undefined && !set.has(key(d.namespace, name)))
            ctx.addIssue({
              code: 'custom',
              path: ['deployments', i, ...path],
              message: `${what} ${d.namespace}/${name} is not in this environment`,
            });
        };
        d.env.forEach((v, j) => {
          need(secrets, v.secret_key_ref?.name, 'secret', ['env', j, 'secret_key_ref', 'name']);
          need(configmaps, v.config_map_key_ref?.name, 'configmap', ['env', j, 'config_map_key_ref', 'name']);
        });
        d.env_from.forEach((v, j) => {
          need(secrets, v.secret, 'secret', ['env_from', j, 'secret']);
          need(configmaps, v.config_map, 'configmap', ['env_from', j, 'config_map']);
        });
        d.volumes.forEach((v, j) => {
          need(secrets, v.secret, 'secret', ['volumes', j, 'secret']);
          need(configmaps, v.config_map, 'configmap', ['volumes', j, 'config_map']);
          need(claims, v.pvc, 'pvc', ['volumes', j, 'pvc']);
        });
      });
      env.hpas.forEach((h, i) => {
        if (!deployments.has(key(h.namespace, h.target)))
          ctx.addIssue({
            code: 'custom',
            path: ['hpas', i, 'target'],
            message: `deployment ${h.namespace}/${h.target} is not in this environment`,
          });
        if (h.min_replicas > h.max_replicas)
          ctx.addIssue({
            code: 'custom',
            path: ['hpas', i, 'min_replicas'],
            message: 'expected min_replicas <= max_replicas',
          });
      });
      env.metrics.forEach((m, i) => {
        if (!deployments.has(key(m.namespace, m.deployment)))
          ctx.addIssue({
            code: 'custom',
            path: ['metrics', i, 'deployment'],
            message: `deployment ${m.namespace}/${m.deployment} is not in this environment`,
          });
      });
      env.secrets.aws.forEach((s, i) => {
        if (s.database !== undefined && !(s.database in env.databases))
          ctx.addIssue({
            code: 'custom',
            path: ['secrets', 'aws', i, 'database'],
            message: `database ${s.database} is not in databases`,
          });
      });
    })
    .transform((env) => {
      const usage = new Map(
        env.metrics.map((m) => [
          `${m.namespace}/${m.deployment}`,
          { cpu_millicores: parseCpu(m.cpu), memory_bytes: parseMemory(m.memory) },
        ]),
      );
      const deployments = env.deployments.map((d) => ({
        ...d,
        usage: usage.get(`${d.namespace}/${d.name}`),
      }));
      const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
        Object.entries(selector).every(([k, v]) => labels[k] === v);
      const services = env.services.map((s) => ({
        ...s,
        endpoints: deployments
          .filter((d) => d.namespace === s.namespace)
          .flatMap((d) => d.pods)
          .filter((p) => p.ready && p.phase === 'Running' && matches(s.selector, p.labels))
          .map((p) => ({ pod: p.name, ip: p.ip })),
      }));
      const pvcs = env.pvcs.map((p) => ({
        ...p,
        mounted_by: deployments
          .filter((d) => d.namespace === p.namespace && d.volumes.some((v) => v.pvc === p.name))
          .map((d) => d.name),
      }));
      const configmaps = env.configmaps.map((c) => ({
        ...c,
        referenced_by: deployments
          .filter(
            (d) =>
              d.namespace === c.namespace &&
              (d.env.some((v) => v.config_map_key_ref?.name === c.name) ||
                d.env_from.some((v) => v.config_map === c.name) ||
                d.volumes.some((v) => v.config_map === c.name)),
          )
          .map((d) => d.name),
      }));
      const aws = env.secrets.aws.map((s) => ({ ...s, last_rotated: s.last_rotated ?? s.created }));
      return { ...env, deployments, services, pvcs, configmaps, secrets: { aws, k8s: env.secrets.k8s } };
    });

  return z
    .strictObject({
      name: z.string().min(1).describe('name of the fleet (the company)'),
      description: z.string().optional().describe('what this fleet demonstrates'),
      catalog: z
        .array(z.string())
        .default([])
        .describe('Backstage catalog files or folders, relative to the fleet file'),
      desired_state: z
        .string()
        .optional()
        .describe('folder of desired-state manifests, relative to the fleet file: <folder>/<env>/*.yaml'),
      rotation_policy: z
        .strictObject({
          max_age_days: z
            .number()
            .int()
            .min(1)
            .default(90)
            .describe('credentials older than this are overdue'),
          warn_days: z
            .number()
            .int()
            .min(0)
            .default(14)
            .describe('credentials within this many days of max age are due soon'),
        })
        .optional()
        .describe(
          'credential rotation rules; when given, day2 serve --sandbox uses them as config rotation.max_age_days and warn_days',
        ),
      registry: z
        .strictObject({
          host: z.string().describe('registry host the images name'),
          repositories: z
            .record(z.string(), z.array(z.string()))
            .describe('repository → tags available (newest last)'),
        })
        .optional()
        .describe('container registry content, for patch discovery'),
      bad_images: z
        .array(
          z.strictObject({
            image: image.describe('repo:tag (a digest is ignored when matching)'),
            effect: z
              .enum(['crashloop', 'errors', 'not_found'])
              .describe(
                'what happens when it is rolled out: pods crash-loop, pods run but fail requests, or the pull fails',
              ),
            reason: z.string().describe('what is wrong with it'),
          }),
        )
        .default([])
        .describe('images that fail when rolled out (the rollout simulator)'),
      environments: z
        .record(
          z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected an environment name (lower-case)'),
          environment,
        )
        .describe('environments by name'),
    })
    .superRefine((f, ctx) => {
      for (const [name, env] of Object.entries(f.environments)) {
        env.alerts.forEach((a, i) => {
          if (a.labels.env !== name)
            ctx.addIssue({
              code: 'custom',
              path: ['environments', name, 'alerts', i, 'labels', 'env'],
              message: `expected env label ${name}`,
            });
        });
      }
    });
}

export type FleetSchema = ReturnType<typeof createFleetSchema>;
/** A parsed fleet: times are Dates, pods/endpoints/usage/mounts derived. */
export type Fleet = z.output<FleetSchema>;
/** The fleet file as written (YAML). */
export type FleetInput = z.input<FleetSchema>;
export type FleetEnvironment = Fleet['environments'][string];
export type FleetDeployment = FleetEnvironment['deployments'][number];
export type FleetPod = FleetDeployment['pods'][number];
export type FleetAwsSecret = FleetEnvironment['secrets']['aws'][number];
export type FleetK8sSecret = FleetEnvironment['secrets']['k8s'][number];
export type FleetMonitor = FleetEnvironment['monitors'][number];
export type FleetAlert = FleetEnvironment['alerts'][number];
export type FleetHpa = FleetEnvironment['hpas'][number];
export type FleetService = FleetEnvironment['services'][number];
export type FleetPvc = FleetEnvironment['pvcs'][number];
export type FleetConfigMap = FleetEnvironment['configmaps'][number];
export type FleetRoleBinding = FleetEnvironment['rolebindings'][number];
export type FleetBadImage = Fleet['bad_images'][number];
