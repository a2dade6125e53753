/**
 * A time-bound access grant as day2 records it. The Store doc (collection `access_grants`) and, for
 * Kubernetes grants, the RoleBinding's labels and annotations are both written at grant time; the
 * reaper trusts either, so a grant survives a restart of day2 and a lost store alike.
 */
export interface AccessGrant {
  id: string;
  kind: 'kubernetes' | 'database';
  /** Who receives access (a Kubernetes User subject, or a PostgreSQL login role). */
  principal: string;
  env: string;
  service?: string;
  /** view | edit | admin (Kubernetes) or a database role name. */
  role: string;
  /** Kubernetes: where the RoleBinding lives. */
  namespace?: string;
  binding?: string;
  /**
   * Kubernetes: the namespaced Role day2 made to narrow a service grant to the service's named
   * objects; absent when the binding is to the ClusterRole `role` (every object in the namespace).
   */
  k8s_role?: string;
  /** Database: the configured database key (`environments.<env>.databases.<key>`). */
  database?: string;
  /** The login's VALID UNTIL before the grant, restored on revocation ('infinity' or a timestamp; null: none). */
  previous_valid_until?: string | null;
  reason: string;
  /** The principal that asked for the grant (through the MCP session). */
  requested_by: string;
  /** The approvers of the grant, when it went through an approval. */
  approved_by: string[];
  created_at: string;
  expires_at: string;
  status: 'active' | 'revoked';
  revoked_at?: string;
  revoked_by?: string;
  revoke_reason?: 'expired' | 'revoked';
}

export const GRANTS_COLLECTION = 'access_grants';

/** Labels and annotations a day2 RoleBinding carries. */
export const ACCESS_LABELS = {
  managedBy: 'day2.dev/managed-by',
  grantId: 'day2.dev/grant-id',
} as const;

export const ACCESS_ANNOTATIONS = {
  expiresAt: 'day2.dev/expires-at',
  grantedBy: 'day2.dev/granted-by',
  approvedBy: 'day2.dev/approved-by',
  reason: 'day2.dev/reason',
  grantId: 'day2.dev/grant-id',
  principal: 'day2.dev/principal',
  createdAt: 'day2.dev/granted-at',
  service: 'day2.dev/service',
  /** The role asked for (view, edit, admin) when the binding points at a narrowed Role. */
  role: 'day2.dev/role',
} as const;

/** Kubernetes roles a grant may bind: the built-in ClusterRoles of the same names. */
export const KUBERNETES_ROLES = ['view', 'edit', 'admin'] as const;

export function isKubernetesRole(role: string): role is (typeof KUBERNETES_ROLES)[number] {
  return (KUBERNETES_ROLES as readonly string[]).includes(role);
}

/** Whether a grant still gives access at `now` as far as its expiry goes. */
export function isExpired(g: Pick<AccessGrant, 'expires_at'>, now: Date): boolean {
  return Date.parse(g.expires_at) <= now.getTime();
}
