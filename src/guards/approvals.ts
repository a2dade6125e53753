import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Notifier } from '../providers/notify/notifier.js';
import type { ApprovalRequest, AuditInput, ConsumeResult, Store } from '../store/store.js';
import type { Policy, PolicyDecision } from './policy.js';
import { checkApprover, type ApproverCheck } from './approver-check.js';
import { ApproverKeys, SIGNED_CHANNEL } from './approver-keys.js';
import { PAGE_CHANNEL } from './approval-link.js';
import type { Redactor } from '../core/redact.js';
import { samePrincipal } from '../core/principal.js';

/** Where audit events go; AuditLog implements it. */
export interface AuditSink {
  append(input: AuditInput, opts?: { durable?: boolean; relaxed?: boolean }): Promise<unknown>;
}

export interface NewApproval {
  tool: string;
  env: string;
  service?: string;
  digest: string;
  requester: string;
  summary: string;
  args: unknown;
  plan: unknown;
  decision: PolicyDecision;
}

/** A refused approval or token, with a code tests and the audit log can key on. */
export class ApprovalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApprovalError';
  }
}

/** What an agent redeems an approval with: the token get_approval handed it, or the approval's id. */
export type Redemption = { token: string } | { approval_id: string };

type RefusalReason = Exclude<ConsumeResult, { ok: true }>['reason'];

/** Why a redemption was refused, in words the model can act on, naming the field it passed. */
function refusalMessage(reason: RefusalReason, by: Redemption, id: string | undefined): string {
  const token = 'token' in by;
  const field = token ? 'approval_token' : 'approval_id';
  switch (reason) {
    case 'unknown':
      return token
        ? 'approval_token is not valid: no approval has that token. Call the tool without approval_token to request approval'
        : `approval_id: no approval request ${by.approval_id}. Call the tool without approval_id to request approval`;
    case 'expired':
      return `${field} has expired. Call the tool again without ${field} for a new approval request`;
    case 'consumed':
      return `${field} was already used; ${token ? 'tokens' : 'approvals'} are single-use. Call the tool again without ${field} for a new request`;
    case 'denied':
      return `the approval for this ${token ? 'token' : 'approval_id'} was denied`;
    case 'not_approved':
      return `${field} is not ${token ? 'valid' : 'approved'} yet: the request does not have all the approvals policy needs. Wait with get_approval {"approval_id":"${id}","wait_s":60}`;
    case 'wrong_digest':
      return `${field} was ${token ? 'issued' : 'approved'} for a different action: the arguments, environment or live target state changed since approval. Call the tool again without ${field} to plan and request approval for this exact action`;
    case 'wrong_principal':
      return `${field} belongs to an action another principal requested: ${token ? 'a token' : 'an approval'} is redeemable only by the principal that requested the action. Call the tool without ${field} to request approval as yourself`;
  }
}

/** The outcome of asking for a request's token: the token itself, once, or why not. */
export type TokenIssue =
  | { issued: true; token: string; request: ApprovalRequest }
  | { issued: false; reason: 'not_requester' | 'not_approved' | 'already_issued'; request: ApprovalRequest };

/**
 * Issues `request`'s token to `principal` if that is its requester (in canonical form) and the
 * request is approved and its token not issued yet. A pure function of the store, so that the
 * get_approval tool and `day2 approve` share it.
 */
export async function issueApprovalToken(
  store: Store,
  request: ApprovalRequest,
  principal: string,
  now: Date,
): Promise<TokenIssue> {
  if (!samePrincipal(request.requester, principal))
    return { issued: false, reason: 'not_requester', request };
  if (request.status !== 'approved') return { issued: false, reason: 'not_approved', request };
  const token = 'd2t_' + randomBytes(24).toString('base64url');
  const updated = await store.issueToken(request.id, token, now.toISOString());
  if (updated) return { issued: true, token, request: updated };
  const current = (await store.getApproval(request.id)) ?? request;
  return {
    issued: false,
    reason: current.status === 'approved' && current.token_issued_at ? 'already_issued' : 'not_approved',
    request: current,
  };
}

/** How a decision reaches day2: its channel (policy checks it), a reason, and a signature for "signed". */
export interface DecisionOptions {
  reason?: string;
  channel: string;
  signature?: string;
}

/** The approval lifecycle: request → approve (k of N) / deny → consume once, every step audited. */
export class Approvals {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditSink,
    private readonly policy: Policy,
    private readonly clock: Clock,
    private readonly notifier: Notifier,
    private readonly log: Logger,
    /** Masks secrets in the arguments and plan a request stores. */
    private readonly redactor: Redactor,
    private readonly defaultTtlMs: number,
    /** The approval page's address of a request, when the page is served (http.public_url). */
    private readonly pageUrl?: (id: string) => string,
    private readonly keys: ApproverKeys = ApproverKeys.none(),
  ) {}

  /** Creates a request or returns the pending one for the same action and requester. */
  async request(a: NewApproval): Promise<{ request: ApprovalRequest; created: boolean }> {
    const now = this.clock.now();
    const ttl = a.decision.ttl_ms ?? this.defaultTtlMs;
    const res = await this.store.createApproval({
      id: 'apr_' + randomBytes(8).toString('hex'),
      tool: a.tool,
      env: a.env,
      service: a.service,
      action_digest: a.digest,
      requester: a.requester,
      summary: a.summary,
      args: this.redactor.redact(a.args),
      plan: this.redactor.redact(a.plan),
      policy: {
        rule: a.decision.rule,
        approvals_needed: a.decision.approvals,
        distinct_from_requester: a.decision.distinct_from_requester,
        reason_required: a.decision.reason_required,
        channels: a.decision.channels,
        notify_owners: a.decision.notify_owners,
        version: this.policy.version,
        hash: this.policy.hash,
      },
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + ttl).toISOString(),
    });
    if (res.created) {
      await this.audit.append(
        {
          event: 'approval.requested',
          principal: a.requester,
          tool: a.tool,
          env: a.env,
          service: a.service,
          action_digest: a.digest,
          approval: {
            id: res.request.id,
            approvals_needed: a.decision.approvals,
            expires_at: res.request.expires_at,
          },
        },
        { durable: true },
      );
      this.notifier
        .send({
          kind: 'approval.requested',
          title: `Approval needed: ${a.summary}`,
          text: `${a.requester} asks to run ${a.tool} in ${a.env}. Policy rule "${a.decision.rule}" needs ${a.decision.approvals} approval(s).`,
          fields: {
            approval_id: res.request.id,
            env: a.env,
            tool: a.tool,
            expires_at: res.request.expires_at,
          },
          command: `day2 approve ${res.request.id}`,
          ...this.pageLink(res.request),
        })
        .catch((err: unknown) =>
          this.log.warn('approval notification failed', { approval_id: res.request.id, error: err }),
        );
    }
    return res;
  }

  /** Records one approval after the separation-of-duties checks; audits refusals too. */
  async approve(id: string, principal: string, opts: DecisionOptions): Promise<ApprovalRequest> {
    return this.decide(id, principal, 'approve', opts);
  }

  async deny(id: string, principal: string, opts: DecisionOptions): Promise<ApprovalRequest> {
    return this.decide(id, principal, 'deny', opts);
  }

  private async decide(
    id: string,
    principal: string,
    decision: 'approve' | 'deny',
    opts: DecisionOptions,
  ): Promise<ApprovalRequest> {
    const now = this.clock.now();
    const request = await this.store.getApproval(id);
    if (!request) {
      await this.audit.append(
        { event: `approval.${decision}.refused`, principal, detail: { approval_id: id, code: 'unknown' } },
        { durable: true },
      );
      throw new ApprovalError(
        'unknown',
        `no approval request with id ${id}; run "day2 approvals" to list pending ones`,
      );
    }
    const signed = opts.channel === SIGNED_CHANNEL;
    const check = this.checkDecision(request, principal, decision, opts, now);
    if (!check.ok) {
      await this.audit.append(
        {
          event: `approval.${decision}.refused`,
          principal,
          tool: request.tool,
          env: request.env,
          action_digest: request.action_digest,
          approval: { id, code: check.code, channel: opts.channel },
        },
        { durable: true },
      );
      throw new ApprovalError(check.code, check.message);
    }
    const updated = await this.store.decideApproval(
      id,
      {
        principal,
        decision,
        reason: opts.reason,
        at: now.toISOString(),
        channel: opts.channel,
        ...(signed ? { signature: opts.signature } : {}),
      },
      now.toISOString(),
      request.policy.approvals_needed > 0 ? this.ttlFor(request) : this.defaultTtlMs,
    );
    await this.audit.append(
      {
        event: decision === 'approve' ? 'approval.approved' : 'approval.denied',
        principal,
        tool: request.tool,
        env: request.env,
        service: request.service,
        action_digest: request.action_digest,
        approval: {
          id,
          status: updated.status,
          approvals: updated.decisions.filter((d) => d.decision === 'approve').length,
          approvals_needed: request.policy.approvals_needed,
          channel: opts.channel,
          reason: opts.reason,
        },
      },
      { durable: true },
    );
    return updated;
  }

  /** `{url}` of a request on the approval page, where the page is served and the rule takes decisions made there. */
  pageLink(request: Pick<ApprovalRequest, 'id' | 'policy'>): { url?: string } {
    return this.pageUrl && request.policy.channels.includes(PAGE_CHANNEL)
      ? { url: this.pageUrl(request.id) }
      : {};
  }

  /** Whether this decision may be recorded: its signature (channel "signed"), then the approver rules. */
  private checkDecision(
    request: ApprovalRequest,
    principal: string,
    decision: 'approve' | 'deny',
    opts: DecisionOptions,
    now: Date,
  ): ApproverCheck {
    if (opts.channel === SIGNED_CHANNEL) {
      const statement = {
        approval_id: request.id,
        action_digest: request.action_digest,
        decision,
        principal,
      };
      if (!this.keys.verify(statement, opts.signature))
        return {
          ok: false,
          code: 'bad_signature',
          message: this.keys.has(principal)
            ? `the signature is not ${principal}'s signature of this decision on ${request.id}; sign with your own key, for this request`
            : `no approver key is configured for ${principal} (approvals.keys in day2.yaml)`,
        };
    }
    if (decision === 'approve') return checkApprover(request, principal, now, opts);
    return request.status === 'pending' || request.status === 'approved'
      ? { ok: true }
      : { ok: false, code: request.status, message: `approval ${request.id} is ${request.status}` };
  }

  private ttlFor(request: ApprovalRequest): number {
    const created = Date.parse(request.created_at);
    const expires = Date.parse(request.expires_at);
    return Number.isFinite(expires - created) && expires > created ? expires - created : this.defaultTtlMs;
  }

  /**
   * Redeems an approval for `digest` (by its token, or by its id), exactly once across every
   * process sharing the store, and only for the principal that requested the action. On refusal
   * the audit records why (its own event, `approval.token_refused`, whichever way it was
   * redeemed, so that one alert covers both) and an ApprovalError carries a message the model can
   * act on. The caller records the consumption (consumed) once its execution record is durable,
   * or gives the approval back (release) when that record cannot be written.
   */
  async consume(
    by: Redemption,
    digest: string,
    who: { principal: string; tool: string; env: string },
  ): Promise<ApprovalRequest> {
    const now = this.clock.now().toISOString();
    const res =
      'token' in by
        ? await this.store.consumeToken(by.token, digest, who.principal, now)
        : await this.store.consumeApproval(by.approval_id, digest, who.principal, now);
    if (res.ok) return res.request;
    const id = res.request?.id ?? ('approval_id' in by ? by.approval_id : undefined);
    await this.audit.append(
      {
        event: 'approval.token_refused',
        principal: who.principal,
        tool: who.tool,
        env: who.env,
        action_digest: digest,
        approval: { id, code: res.reason, ...('approval_id' in by ? { via: 'approval_id' } : {}) },
      },
      { durable: true },
    );
    throw new ApprovalError(
      `${'token' in by ? 'token' : 'approval'}_${res.reason}`,
      refusalMessage(res.reason, by, id),
    );
  }

  /**
   * Hands the single-use token of an approved request to its requester, once: the store keeps
   * only its hash, so a second call learns when it was issued, never the token.
   */
  async issueToken(request: ApprovalRequest, principal: string): Promise<TokenIssue> {
    return issueApprovalToken(this.store, request, principal, this.clock.now());
  }

  /** Audits a consumption once the write it approves is durably recorded (joins the next group commit). */
  consumed(request: ApprovalRequest, who: { principal: string; tool: string; env: string }): void {
    this.audit
      .append({
        event: 'approval.consumed',
        principal: who.principal,
        tool: who.tool,
        env: who.env,
        action_digest: request.action_digest,
        approval: { id: request.id },
      })
      .catch((err: unknown) => this.log.error('audit append failed', { error: err }));
  }

  /** Gives back an approval whose write could not be recorded, so that it can be used once the store is writable. */
  async release(request: ApprovalRequest): Promise<boolean> {
    return request.consumed_at ? this.store.releaseApproval(request.id, request.consumed_at) : false;
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    return this.store.getApproval(id);
  }

  async pending(limit: number): Promise<ApprovalRequest[]> {
    await this.store.expireApprovals(this.clock.now().toISOString());
    return this.store.listApprovals({ status: 'pending', limit });
  }
}
