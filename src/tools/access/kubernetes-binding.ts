import { createHash } from 'node:crypto';
import type { RoleBindingInfo, RoleBindingSpec } from '../../providers/kubernetes/types.js';
import { ACCESS_ANNOTATIONS, ACCESS_LABELS, type AccessGrant } from './grant.js';

/**
 * The RoleBinding name of a grant: one per (principal, role) in a namespace, so that a second
 * request for the same access finds the first instead of stacking bindings.
 */
export function bindingName(principal: string, role: string): string {
  const slug =
    principal
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'principal';
  const hash = createHash('sha256').update(principal).digest('hex').slice(0, 6);
  return `day2-${role}-${slug}-${hash}`;
}

/** The RoleBinding that carries a grant: its expiry, grantor and reason travel with it. */
export function bindingSpec(g: AccessGrant): RoleBindingSpec {
  return {
    name: g.binding ?? bindingName(g.principal, g.role),
    role: g.k8s_role ? { kind: 'Role', name: g.k8s_role } : { kind: 'ClusterRole', name: g.role },
    subjects: [{ kind: 'User', name: g.principal }],
    labels: { [ACCESS_LABELS.managedBy]: 'day2', [ACCESS_LABELS.grantId]: g.id },
    annotations: {
      [ACCESS_ANNOTATIONS.grantId]: g.id,
      [ACCESS_ANNOTATIONS.principal]: g.principal,
      [ACCESS_ANNOTATIONS.expiresAt]: g.expires_at,
      [ACCESS_ANNOTATIONS.createdAt]: g.created_at,
      [ACCESS_ANNOTATIONS.grantedBy]: g.requested_by,
      [ACCESS_ANNOTATIONS.approvedBy]: g.approved_by.join(','),
      [ACCESS_ANNOTATIONS.reason]: g.reason.slice(0, 500),
      [ACCESS_ANNOTATIONS.role]: g.role,
      ...(g.service ? { [ACCESS_ANNOTATIONS.service]: g.service } : {}),
    },
  };
}

export function isDay2Binding(rb: RoleBindingInfo): boolean {
  return rb.labels[ACCESS_LABELS.managedBy] === 'day2';
}

/** A grant read back from a day2 RoleBinding (when the store lost it, or to cross-check it). */
export function grantFromBinding(env: string, rb: RoleBindingInfo): AccessGrant | undefined {
  if (!isDay2Binding(rb)) return undefined;
  const a = rb.annotations;
  const id = a[ACCESS_ANNOTATIONS.grantId] ?? rb.labels[ACCESS_LABELS.grantId];
  const expires = a[ACCESS_ANNOTATIONS.expiresAt];
  if (!id || !expires) return undefined;
  return {
    id,
    kind: 'kubernetes',
    principal: a[ACCESS_ANNOTATIONS.principal] ?? rb.subjects[0]?.name ?? 'unknown',
    env,
    service: a[ACCESS_ANNOTATIONS.service],
    role: a[ACCESS_ANNOTATIONS.role] ?? rb.role.name,
    namespace: rb.namespace,
    binding: rb.name,
    ...(rb.role.kind === 'Role' ? { k8s_role: rb.role.name } : {}),
    reason: a[ACCESS_ANNOTATIONS.reason] ?? '',
    requested_by: a[ACCESS_ANNOTATIONS.grantedBy] ?? 'unknown',
    approved_by: (a[ACCESS_ANNOTATIONS.approvedBy] ?? '').split(',').filter(Boolean),
    created_at: a[ACCESS_ANNOTATIONS.createdAt] ?? rb.createdAt ?? expires,
    expires_at: expires,
    status: 'active',
  };
}
