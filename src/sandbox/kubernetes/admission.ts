import type { ResourceType } from './resources.js';
import { LabelSelector } from './selectors.js';
import { invalid, type KubeApiError } from './status.js';
import { isObject, type KubeObject } from './types.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** API-server defaulting for the kinds whose defaults matter to day2 (deployments, pods, HPAs). */
export function applyDefaults(rt: ResourceType, obj: KubeObject): void {
  if (rt.kind === 'Deployment') {
    const spec = (obj.spec ??= {}) as Record<string, unknown>;
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
    const template = (spec.template ??= {}) as Record<string, unknown>;
    template.metadata ??= {};
    if (isObject(template.spec)) defaultPodSpec(template.spec);
  }
  if (rt.kind === 'Pod' && isObject(obj.spec)) defaultPodSpec(obj.spec);
  if (rt.kind === 'HorizontalPodAutoscaler') {
    const spec = (obj.spec ??= {}) as Record<string, unknown>;
    spec.minReplicas ??= 1;
    spec.metrics ??= [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
      },
    ];
  }
  if (rt.kind === 'Secret') obj.type ??= 'Opaque';
  if (rt.kind === 'Namespace') obj.status ??= { phase: 'Active' };
}

function defaultPodSpec(spec: Record<string, unknown>): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  if (!Array.isArray(spec.containers)) return;
  for (const c of spec.containers as Record<string, unknown>[]) {
    if (!isObject(c)) continue;
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.imagePullPolicy ??=
      typeof c.image === 'string' && (c.image.endsWith(':latest') || !c.image.split('/').pop()!.includes(':'))
        ? 'Always'
        : 'IfNotPresent';
    c.resources ??= {};
  }
}

type Cause = { field: string; message: string; reason?: string };

/** Validation: the 422 Invalid answers a real API server gives for the fields day2 writes. */
export function validate(rt: ResourceType, obj: KubeObject, old?: KubeObject): KubeApiError | undefined {
  const causes: Cause[] = [];
  const name = obj.metadata?.name ?? '';
  if (!name)
    causes.push({
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
      reason: 'FieldValueRequired',
    });
  else if (!DNS_SUBDOMAIN.test(name) || name.length > 253) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  if (rt.kind === 'Deployment') validateDeployment(obj, causes);
  if (rt.kind === 'HorizontalPodAutoscaler') {
    const s = (obj.spec ?? {}) as {
      minReplicas?: number;
      maxReplicas?: number;
      scaleTargetRef?: { kind?: string; name?: string };
    };
    if (!s.scaleTargetRef?.kind)
      causes.push({
        field: 'spec.scaleTargetRef.kind',
        message: 'Required value',
        reason: 'FieldValueRequired',
      });
    if (!s.scaleTargetRef?.name)
      causes.push({
        field: 'spec.scaleTargetRef.name',
        message: 'Required value',
        reason: 'FieldValueRequired',
      });
    if (typeof s.maxReplicas !== 'number' || s.maxReplicas < 1)
      causes.push({
        field: 'spec.maxReplicas',
        message: `Invalid value: ${s.maxReplicas ?? 0}: must be greater than or equal to 1`,
      });
    if (
      typeof s.minReplicas === 'number' &&
      typeof s.maxReplicas === 'number' &&
      s.minReplicas > s.maxReplicas
    ) {
      causes.push({
        field: 'spec.maxReplicas',
        message: `Invalid value: ${s.maxReplicas}: must be greater than or equal to \`minReplicas\``,
      });
    }
  }
  if (rt.kind === 'RoleBinding' || rt.kind === 'ClusterRoleBinding') {
    const ref = obj.roleRef as { kind?: string; name?: string; apiGroup?: string } | undefined;
    if (!ref?.name)
      causes.push({ field: 'roleRef.name', message: 'Required value', reason: 'FieldValueRequired' });
    if (ref?.kind !== 'Role' && ref?.kind !== 'ClusterRole')
      causes.push({
        field: 'roleRef.kind',
        message: `Unsupported value: "${ref?.kind ?? ''}": supported values: "Role", "ClusterRole"`,
        reason: 'FieldValueNotSupported',
      });
    if (old && JSON.stringify(old.roleRef) !== JSON.stringify(obj.roleRef))
      causes.push({
        field: 'roleRef',
        message: `Invalid value: ${JSON.stringify(obj.roleRef)}: cannot change roleRef`,
      });
  }
  return causes.length > 0 ? invalid(rt, name, causes) : undefined;
}

function validateDeployment(obj: KubeObject, causes: Cause[]): void {
  const spec = (obj.spec ?? {}) as {
    replicas?: unknown;
    selector?: unknown;
    template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: unknown } };
  };
  if (typeof spec.replicas !== 'number' || !Number.isInteger(spec.replicas) || spec.replicas < 0) {
    causes.push({
      field: 'spec.replicas',
      message: `Invalid value: ${JSON.stringify(spec.replicas)}: must be greater than or equal to 0`,
    });
  }
  if (!isObject(spec.selector))
    causes.push({ field: 'spec.selector', message: 'Required value', reason: 'FieldValueRequired' });
  else if (!LabelSelector.fromObject(spec.selector).matches(spec.template?.metadata?.labels)) {
    causes.push({
      field: 'spec.template.metadata.labels',
      message: `Invalid value: ${JSON.stringify(spec.template?.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  }
  const containers = spec.template?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({
      field: 'spec.template.spec.containers',
      message: 'Required value',
      reason: 'FieldValueRequired',
    });
    return;
  }
  containers.forEach((c: unknown, i) => {
    const ct = (isObject(c) ? c : {}) as { name?: unknown; image?: unknown };
    if (typeof ct.name !== 'string' || !ct.name)
      causes.push({
        field: `spec.template.spec.containers[${i}].name`,
        message: 'Required value',
        reason: 'FieldValueRequired',
      });
    if (typeof ct.image !== 'string' || !ct.image.trim())
      causes.push({
        field: `spec.template.spec.containers[${i}].image`,
        message: 'Required value',
        reason: 'FieldValueRequired',
      });
  });
}

/** Fields that change a Deployment's or ReplicaSet's generation: everything under spec. */
export function specChanged(before: KubeObject | undefined, after: KubeObject): boolean {
  return JSON.stringify(before?.spec) !== JSON.stringify(after.spec);
}
