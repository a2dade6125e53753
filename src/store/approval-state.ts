import { createHash, randomBytes } from 'node:crypto';
import type { ApprovalDecision, ApprovalRequest, ConsumeResult } from './store.js';
import { ApprovalStateError } from './store.js';
import { canonicalPrincipal, samePrincipal } from '../core/principal.js';

/**
 * The approval state machine shared by both stores: pure functions over a request that the store
 * has locked (SQLite `BEGIN IMMEDIATE`, PostgreSQL `SELECT ... FOR UPDATE`).
 */

/**
 * Principals whose approvals count, as first given: distinct in canonical form (so `Agent-7` and
 * `agent-7\u200b` are one approver), and not the requester when policy says so.
 */
export function countedApprovers(req: ApprovalRequest): string[] {
  const requester = canonicalPrincipal(req.requester);
  const seen = new Map<string, string>();
  for (const d of req.decisions) {
    if (d.decision !== 'approve') continue;
    const who = canonicalPrincipal(d.principal);
    if (req.policy.distinct_from_requester && who === requester) continue;
    if (!seen.has(who)) seen.set(who, d.principal);
  }
  return [...seen.values()];
}

export type DecisionOutcome =
  | { kind: 'unchanged'; request: ApprovalRequest }
  | { kind: 'updated'; request: ApprovalRequest }
  | { kind: 'expired'; request: ApprovalRequest };

/**
 * Applies one approve/deny to a pending request (or a deny to an approved one, revoking its unused
 * token). A second approval by the same principal changes nothing (it counts once). Throws
 * ApprovalStateError otherwise.
 */
export function applyDecision(
  req: ApprovalRequest,
  decision: ApprovalDecision,
  now: string,
  ttlMs: number,
): DecisionOutcome {
  // A deny after approval, before the token is used, revokes it.
  if (req.status === 'approved' && decision.decision === 'deny') {
    return {
      kind: 'updated',
      request: { ...req, status: 'denied', decisions: [...req.decisions, decision] },
    };
  }
  if (req.status !== 'pending') throw new ApprovalStateError(req.id, req.status);
  if (Date.parse(req.expires_at) <= Date.parse(now)) {
    return { kind: 'expired', request: { ...req, status: 'expired' } };
  }
  if (
    decision.decision === 'approve' &&
    req.decisions.some((d) => d.decision === 'approve' && samePrincipal(d.principal, decision.principal))
  ) {
    return { kind: 'unchanged', request: req };
  }
  const next: ApprovalRequest = { ...req, decisions: [...req.decisions, decision] };
  if (decision.decision === 'deny') {
    next.status = 'denied';
  } else if (countedApprovers(next).length >= req.policy.approvals_needed) {
    next.status = 'approved';
    next.approved_at = now;
    next.token_expires_at = new Date(Date.parse(now) + ttlMs).toISOString();
  }
  return { kind: 'updated', request: next };
}

/** What the approvals table keeps of a token: its SHA-256, hex (PostgreSQL's sha256() agrees). */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The token column of a request whose token is not issued yet: the hash of random bytes no one
 * holds, so nothing redeems it (the column is unique and required).
 */
export function unissuedTokenHash(): string {
  return tokenHash(randomBytes(32).toString('base64url'));
}

/** A redemption by anyone but the requester (compared in canonical form) is refused. */
export function wrongPrincipal(req: ApprovalRequest, principal: string): ConsumeResult | undefined {
  return samePrincipal(req.requester, principal)
    ? undefined
    : { ok: false, reason: 'wrong_principal', request: req };
}

/** Why a token that did not match the atomic consume failed, given the row it names (if any). */
export function consumeFailure(
  req: ApprovalRequest | undefined,
  actionDigest: string,
  now: string,
): ConsumeResult {
  if (!req) return { ok: false, reason: 'unknown' };
  const request = req;
  switch (req.status) {
    case 'consumed':
      return { ok: false, reason: 'consumed', request };
    case 'denied':
      return { ok: false, reason: 'denied', request };
    case 'expired':
      return { ok: false, reason: 'expired', request };
    case 'pending':
      return {
        ok: false,
        reason: Date.parse(req.expires_at) <= Date.parse(now) ? 'expired' : 'not_approved',
        request,
      };
    case 'approved':
      if (req.action_digest !== actionDigest) return { ok: false, reason: 'wrong_digest', request };
      return { ok: false, reason: 'expired', request };
  }
}
