import type { Deps } from '../../contract/deps.js';
import { NotFoundError } from '../../providers/errors.js';
import { revokeDatabaseGrant } from './database-grant.js';
import type { AccessGrant } from './grant.js';

/** What revoking one grant did on its backend. */
export interface RevocationResult {
  /** False when the binding or membership was already gone. */
  removed: boolean;
  sessionsEnded?: number;
}

/**
 * Removes the access a grant gave: deletes its RoleBinding, or REVOKEs the database role. Already
 * gone counts as done (a human may have cleaned up first). Does not audit or update the store:
 * the revoke_access tool and the reaper do that, each in its own way.
 */
export async function revokeOnBackend(
  deps: Deps,
  g: AccessGrant,
  opts: { dryRun?: boolean } = {},
): Promise<RevocationResult> {
  if (g.kind === 'kubernetes') {
    const k8s = deps.backends.kubernetes(g.env);
    const gone = (err: unknown) => {
      if (err instanceof NotFoundError) return false;
      throw err;
    };
    const removed = await k8s
      .deleteRoleBinding(g.namespace!, g.binding!, { dryRun: opts.dryRun })
      .then(() => true, gone);
    // The narrowed Role goes with its binding: nothing else binds it.
    if (g.k8s_role) await k8s.deleteRole(g.namespace!, g.k8s_role, { dryRun: opts.dryRun }).catch(gone);
    return { removed };
  }
  if (opts.dryRun) return { removed: true };
  const r = await revokeDatabaseGrant(deps.backends.postgres, { env: g.env, database: g.database! }, g);
  return { removed: true, sessionsEnded: r.sessionsEnded };
}

/** The grant as stored after its revocation. */
export function markRevoked(
  g: AccessGrant,
  by: string,
  reason: 'expired' | 'revoked',
  now: Date,
): AccessGrant {
  return { ...g, status: 'revoked', revoked_at: now.toISOString(), revoked_by: by, revoke_reason: reason };
}
