import type { Deps } from '../../contract/deps.js';
import type { Backends } from '../../providers/backends.js';
import type { RoleBindingInfo } from '../../providers/kubernetes/types.js';
import type { AuditSink } from '../../guards/approvals.js';
import { gapReason } from '../context/gather.js';
import { listGrants, saveGrant } from './grant-store.js';
import { isExpired, type AccessGrant } from './grant.js';
import { grantFromBinding, isDay2Binding } from './kubernetes-binding.js';
import { markRevoked, revokeOnBackend } from './revoke.js';

export const REAPER_PRINCIPAL = 'day2-access-reaper';

/** The day2 RoleBindings found in the clusters, and the environments whose bindings were not read. */
export interface BindingScan {
  bindings: { env: string; binding: RoleBindingInfo }[];
  gaps: { env: string; error: string }[];
}

/**
 * Reads the day2 RoleBindings of the given environments' clusters for the reaper. Resolves
 * `undefined` when the clusters are not read in this pass (the store's grants are still reaped).
 */
export type ScanBindings = (envs: string[], signal: AbortSignal) => Promise<BindingScan | undefined>;

/**
 * Lists the day2 RoleBindings in every namespace of each environment's cluster, in this process.
 * A namespace that cannot be listed is a gap, never a reason to stop.
 */
export async function scanBindings(backends: Backends, envs: readonly string[]): Promise<BindingScan> {
  const out: BindingScan = { bindings: [], gaps: [] };
  for (const env of envs) {
    if (!backends.has(env, 'kubernetes')) continue;
    const k8s = backends.kubernetes(env);
    await Promise.all(
      k8s.namespaces.map(async (ns) => {
        try {
          for (const rb of await k8s.listRoleBindings(ns))
            if (isDay2Binding(rb)) out.bindings.push({ env, binding: rb });
        } catch (err) {
          out.gaps.push({ env, error: `${ns}: ${gapReason(err)}` });
        }
      }),
    );
  }
  return out;
}

export interface ReapResult {
  /** Grants revoked in this pass. */
  revoked: { id: string; env: string; principal: string; role: string; where: string; expired_at: string }[];
  /** Grants whose revocation failed; retried on the next pass. */
  failed: { id: string; env: string; error: string }[];
  /** Environments whose bindings could not be listed. */
  gaps: { env: string; error: string }[];
}

/**
 * One pass of expiry enforcement: every active grant past its expiry is revoked on its backend,
 * audited (`access.revoked`, durably) and then marked revoked in the store. The candidates are the
 * union of the store's grants and the day2 RoleBindings found in each cluster (their annotations
 * carry the expiry), so a grant is reaped even when the store that recorded it was lost.
 *
 * Expiry wins over audit availability: the access is removed first; if the audit append then
 * fails, the grant stays `active` in the store and the next pass finds the binding gone, audits
 * and marks it then.
 */
export async function reapExpiredGrants(
  deps: Deps,
  audit: AuditSink,
  opts: { scan?: ScanBindings; signal?: AbortSignal } = {},
): Promise<ReapResult> {
  const now = deps.clock.now();
  const result: ReapResult = { revoked: [], failed: [], gaps: [] };
  const byId = new Map<string, AccessGrant>();
  for (const g of await listGrants(deps.store)) if (g.status === 'active') byId.set(g.id, g);

  const envs = Object.keys(deps.config.environments);
  const scan = opts.scan
    ? await opts.scan(envs, opts.signal ?? new AbortController().signal)
    : await scanBindings(deps.backends, envs);
  for (const { env, binding } of scan?.bindings ?? []) {
    const g = grantFromBinding(env, binding);
    if (g && !byId.has(g.id)) byId.set(g.id, g);
  }
  result.gaps.push(...(scan?.gaps ?? []));

  for (const g of byId.values()) {
    if (!isExpired(g, now)) continue;
    try {
      const r = await revokeOnBackend(deps, g);
      await audit.append(
        {
          event: 'access.revoked',
          principal: REAPER_PRINCIPAL,
          transport: 'internal',
          env: g.env,
          service: g.service,
          targets: [target(g)],
          outcome: { ok: true },
          detail: {
            grant_id: g.id,
            grantee: g.principal,
            role: g.role,
            reason: 'expired',
            expired_at: g.expires_at,
            backend_removed: r.removed,
            ...(r.sessionsEnded !== undefined ? { sessions_ended: r.sessionsEnded } : {}),
          },
        },
        { durable: true },
      );
      await saveGrant(deps.store, markRevoked(g, REAPER_PRINCIPAL, 'expired', now));
      result.revoked.push({
        id: g.id,
        env: g.env,
        principal: g.principal,
        role: g.role,
        where: where(g),
        expired_at: g.expires_at,
      });
    } catch (err) {
      deps.log.error('access reaper could not revoke a grant', { grant_id: g.id, env: g.env, error: err });
      result.failed.push({ id: g.id, env: g.env, error: gapReason(err) });
    }
  }
  return result;
}

/** The backend object a grant lives in, as an audit target. */
export function target(g: AccessGrant): { kind: string; name: string; namespace?: string; service?: string } {
  return g.kind === 'kubernetes'
    ? { kind: 'RoleBinding', name: g.binding!, namespace: g.namespace, service: g.service }
    : {
        kind: 'DatabaseRoleMembership',
        name: `${g.role}:${g.principal}`,
        namespace: g.database,
        service: g.service,
      };
}

export function where(g: AccessGrant): string {
  return g.kind === 'kubernetes'
    ? `${g.env}/${g.namespace} RoleBinding ${g.binding}`
    : `${g.env}/${g.database} role ${g.role}`;
}

/**
 * Runs the reaper every `intervalMs` inside `day2 serve` (first pass at once). Passes never
 * overlap. `scan` reads the clusters' bindings (default: in this process, every pass). Returns a
 * function that stops it, aborting a scan in flight, and waits for the pass (up to 10 s).
 */
export function startAccessReaper(
  rt: { deps: Deps; audit: AuditSink },
  opts: { intervalMs?: number; scan?: ScanBindings } = {},
): () => Promise<void> {
  const interval = opts.intervalMs ?? rt.deps.config.access?.reap_interval ?? 60_000;
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const pass = () => {
    if (running || abort.signal.aborted) return;
    running = reapExpiredGrants(rt.deps, rt.audit, { scan: opts.scan, signal: abort.signal })
      .then((r) => {
        if (r.revoked.length || r.failed.length)
          rt.deps.log.info('access reaper pass', { revoked: r.revoked.length, failed: r.failed.length });
      })
      .catch((err: unknown) => {
        if (!abort.signal.aborted) rt.deps.log.error('access reaper pass failed', { error: err });
      })
      .finally(() => {
        running = undefined;
      });
  };
  pass();
  const timer = setInterval(pass, interval);
  timer.unref();
  return async () => {
    abort.abort();
    clearInterval(timer);
    // A pass stuck on a backend must not hold the server's shutdown.
    await Promise.race([running, new Promise((r) => setTimeout(r, 10_000).unref())]);
  };
}
