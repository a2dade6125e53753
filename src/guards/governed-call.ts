import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Governance } from './governance.js';
import type { ActionPlan, AnyTool, Attachment, Plan, ToolContext } from '../contract/define-tool.js';

type AnyWriteTool = Extract<AnyTool, { effect: 'write' }>;
type AnyReadTool = Exclude<AnyTool, AnyWriteTool>;
import { ToolError } from '../contract/define-tool.js';
import type { Principal } from '../core/principal.js';
import type { PolicyDecision } from './policy.js';
import { actionArgs, actionDigest } from './action-digest.js';
import { ApprovalError, type Redemption } from './approvals.js';
import { awaitApprovalDecision, MAX_APPROVAL_WAIT_MS } from './approval-wait.js';
import { approvalRequiredText, mayNotApprove } from './approval-ask.js';
import type { Redactor } from '../core/redact.js';
import { checkInputLimits } from './input-limits.js';
import { formatZodIssues } from '../core/format-issues.js';
import { canonicalJson } from '../core/canonical-json.js';
import { approvalIdField, approvalTokenField, dryRunField, durationMs } from '../contract/fields.js';
import { answerText, callText, capText, planText } from '../contract/answer-text.js';
import { StoreUnavailableError, type ApprovalRequest, type AuditInput } from '../store/store.js';
import { describeBackendError, serverMessageOf } from '../providers/describe-error.js';

/** Per-call facts from the transport. */
export interface CallSession {
  principal: Principal;
  signal: AbortSignal;
  progress: (progress: number, total?: number, message?: string) => Promise<void>;
  /**
   * Asks the human at the client, where the client supports elicitation; undefined otherwise.
   * `unconfirmed`: accepted without `confirm: true` (an answer that approves nothing).
   */
  elicit?: (message: string) => Promise<'accept' | 'decline' | 'cancel' | 'unconfirmed'>;
  /**
   * Asks the client to open `url` for its user (URL-mode elicitation, MCP 2025-11-25), where the
   * client declared it; undefined otherwise. `accept` means the user agreed to open it, not that
   * anything was approved: the approval itself is made on the page.
   */
  openUrl?: (message: string, url: string, elicitationId: string) => Promise<'accept' | 'decline' | 'cancel'>;
  /** Tells the client that the interaction behind a URL elicitation is over. */
  urlDone?: (elicitationId: string) => Promise<void>;
}

const schemaCache = new WeakMap<AnyTool, z.ZodObject>();

/** The strict input schema of a tool (unknown fields are refused, with their names); writes add approval_token, approval_id and dry_run. */
export function inputSchemaOf(tool: AnyTool): z.ZodObject {
  let s = schemaCache.get(tool);
  if (!s) {
    // Every write takes the governance fields; tools declare only their own.
    s = z.strictObject(
      tool.effect === 'write'
        ? {
            ...tool.input,
            approval_token: approvalTokenField,
            approval_id: approvalIdField.optional(),
            dry_run: dryRunField,
          }
        : tool.input,
    );
    schemaCache.set(tool, s);
  }
  return s;
}

/**
 * The one path every tool call takes: validate → resolve targets → policy → approval (writes) →
 * audit (durably, before a write executes) → execute → redact → audit outcome. Tools cannot skip
 * it: the registration layer is the only caller of their handlers.
 */
export async function governedCall(
  rt: Governance,
  tool: AnyTool,
  rawArgs: unknown,
  session: CallSession,
): Promise<CallToolResult> {
  const started = performance.now();
  const r = rt.deps.redactor;
  const who = principalFields(session.principal);
  const callId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const base: AuditInput = { event: 'tool.call', ...who, call: callId, tool: tool.name };

  // Before anything else reads the arguments (schema, redaction, the audit log), so that no input
  // can exhaust the stack or memory that every other session's call shares.
  const breach = checkInputLimits(rawArgs);
  if (breach)
    return refuse(
      rt,
      tool,
      base,
      'input_limit',
      `Invalid input for ${tool.name}: ${breach.message}`,
      started,
      {
        limit: breach.limit,
        allowed: breach.allowed,
        field: breach.field,
      },
    );
  const parsed = inputSchemaOf(tool).safeParse(rawArgs ?? {});
  if (!parsed.success) {
    const lines = formatZodIssues(parsed.error);
    return refuse(
      rt,
      tool,
      { ...base, args: r.redact(rawArgs) },
      'invalid_input',
      `Invalid input for ${tool.name}:\n${lines.join('\n')}`,
      started,
    );
  }
  const args: Record<string, unknown> = parsed.data;
  const attachments: Attachment[] = [];
  const ctx: ToolContext = {
    deps: rt.deps,
    principal: session.principal,
    signal: session.signal,
    progress: session.progress,
    callId,
    attach: (a) => void attachments.push(a),
  };

  try {
    if (tool.effect === 'write') return await governedWrite(rt, tool, args, ctx, session, base, started);
    return await governedRead(rt, tool, args, ctx, base, started, attachments);
  } catch (err) {
    const { message, code } = classify(err, tool);
    if (code === 'internal') rt.deps.log.error('tool failed', { tool: tool.name, error: err });
    const failed: AuditInput = {
      ...base,
      args: r.redact(actionArgs(args)),
      env: typeof args.env === 'string' ? args.env : undefined,
    };
    // A refusal (a ToolError the tool or governance raised, a refused approval) ran nothing: it is
    // recorded as tool.refused with its reason. Anything else failed while running.
    if (isRefusal(err)) return refuse(rt, tool, failed, code, message, started);
    trace(rt, { 'day2.call.status': 'failed', 'day2.error.code': code });
    await auditQuietly(rt, {
      ...failed,
      outcome: { ok: false, error: code, duration_ms: ms(started) },
      detail: { message: auditMessage(r, err) },
    });
    return errorResult(r, message);
  }
}

async function governedRead(
  rt: Governance,
  tool: AnyReadTool,
  args: Record<string, unknown>,
  ctx: ToolContext,
  base: AuditInput,
  started: number,
  attachments: readonly Attachment[],
): Promise<CallToolResult> {
  const r = rt.deps.redactor;
  const scope = tool.scope?.(args, rt.deps) ?? readScope(rt, args);
  const decision = rt.policy.evaluate({
    env: scope.env,
    tier: scope.env ? rt.tierOf(scope.env) : undefined,
    tool: tool.name,
    toolset: tool.toolset,
    effect: tool.effect,
    risk: tool.risk,
    service: scope.service,
    principal: ctx.principal.id,
  });
  const audit: AuditInput = {
    ...base,
    env: scope.env,
    service: scope.service,
    args: r.redact(args),
    policy: policyFields(rt, decision),
  };
  trace(rt, { 'day2.env': scope.env, ...policyAttributes(decision) });
  if (decision.decision !== 'allow')
    return refuse(
      rt,
      tool,
      audit,
      'policy_denied',
      `Policy denies ${tool.name}: ${decision.reason} (rule "${decision.rule}").`,
      started,
    );
  const output = r.redact(await tool.run(args, ctx));
  // Records (incident notes) are day2's own state: their audit is durable; reads are group-committed,
  // and may be committed relaxed.
  if (tool.effect === 'record')
    await auditQuietly(rt, { ...audit, outcome: { ok: true, duration_ms: ms(started) } }, true);
  else
    void rt.audit
      .append({ ...audit, outcome: { ok: true, duration_ms: ms(started) } }, { relaxed: true })
      .catch((err: unknown) => rt.deps.log.error('audit append failed', { error: err }));
  // Renders repeat arguments in their next calls: never a secret-named one.
  const result = okResult(r, output, tool.render(output, r.redact(args)));
  for (const a of attachments)
    result.content.push({
      type: 'resource',
      resource: { uri: a.uri, mimeType: a.mimeType, text: r.redactText(a.text) },
    });
  return result;
}

async function governedWrite(
  rt: Governance,
  tool: AnyWriteTool,
  args: Record<string, unknown>,
  ctx: ToolContext,
  session: CallSession,
  base: AuditInput,
  started: number,
): Promise<CallToolResult> {
  const r = rt.deps.redactor;
  const redemption = redemptionOf(args);
  const dryRun = args.dry_run === true;
  const planned: Plan = await tool.plan(args, ctx);
  // The summary reaches the model, the approver and the notifier as it is: no secret in it either.
  const plan: Plan = { ...planned, summary: r.redactText(planned.summary) };
  const risk = plan.risk ?? tool.risk;
  const decision = rt.policy.evaluate({
    env: plan.env,
    tier: rt.tierOf(plan.env),
    tool: tool.name,
    toolset: tool.toolset,
    effect: 'write',
    risk,
    service: plan.service,
    principal: ctx.principal.id,
    destroys: plan.destroys,
  });
  const digest = actionDigest({
    tool: tool.name,
    args,
    env: plan.env,
    targets: plan.targets,
    preconditions: plan.preconditions,
  });
  const audit: AuditInput = {
    ...base,
    env: plan.env,
    service: plan.service,
    targets: plan.targets,
    args: r.redact(actionArgs(args)),
    action_digest: digest,
    summary: plan.summary,
    policy: policyFields(rt, decision),
  };
  trace(rt, { 'day2.env': plan.env, 'day2.action.digest': digest, ...policyAttributes(decision) });
  const planView = r.redact({ summary: plan.summary, risk, ...plan.details });

  if (plan.refusal !== undefined)
    return refuse(
      rt,
      tool,
      audit,
      'plan_refused',
      withPlan(`${tool.name} refused: ${plan.refusal}`, planView),
      started,
      undefined,
      {
        status: 'refused',
        action_digest: digest,
        summary: plan.summary,
        plan: planView,
      },
    );
  if (decision.decision === 'deny')
    return refuse(
      rt,
      tool,
      audit,
      'policy_denied',
      `Policy denies ${tool.name} in ${plan.env}: ${decision.reason} (rule "${decision.rule}").`,
      started,
    );
  if (decision.max_duration_ms !== undefined) {
    const asked = requestedDurationMs(args);
    if (asked !== undefined && asked > decision.max_duration_ms)
      return refuse(
        rt,
        tool,
        audit,
        'duration_over_policy',
        `duration: policy rule "${decision.rule}" allows at most ${Math.round(decision.max_duration_ms / 60_000)} minutes in ${plan.env}; ask for less.`,
        started,
      );
  }
  if (dryRun) {
    trace(rt, { 'day2.call.status': 'dry_run' });
    await auditQuietly(rt, { ...audit, event: 'tool.plan', outcome: { ok: true, duration_ms: ms(started) } });
    return okResult(
      r,
      {
        status: 'dry_run',
        action_digest: digest,
        summary: plan.summary,
        plan: planView,
        policy: policySummary(decision),
      },
      withPlan(`Dry run of ${tool.name}: ${plan.summary}`, planView, [
        `Policy: ${decisionText(decision)}.`,
        `Next: ${nextCall(r, tool.name, actionArgs(args))} ${decision.decision === 'require_approval' ? 'asks for that approval' : 'runs it'}.`,
      ]),
    );
  }

  if (decision.decision === 'require_approval') {
    if (!redemption) {
      const elicited = await tryElicitation(rt, tool, plan, decision, session);
      if (elicited === 'approved') {
        return await executeWrite(
          rt,
          tool,
          args,
          ctx,
          plan,
          { ...audit, approval: { channel: 'elicitation' } },
          started,
        );
      }
      const { request } = await rt.approvals.request({
        tool: tool.name,
        env: plan.env,
        service: plan.service,
        digest,
        requester: ctx.principal.id,
        summary: plan.summary,
        args: actionArgs(args),
        plan: planView,
        decision,
      });
      trace(rt, { 'day2.approval.id': request.id });
      // Durable before the answer, or no answer: an agent never holds an approval id that the
      // audit does not show it was given (asked again, the request may already exist).
      await rt.audit.append(
        {
          ...audit,
          event: 'tool.approval_required',
          approval: { id: request.id },
          outcome: { ok: true, duration_ms: ms(started) },
        },
        { durable: true },
      );
      const link = rt.approvals.pageLink(request);
      const onPage = link.url
        ? await approveOnPage(rt, tool, request, link.url, session, ctx)
        : { state: 'not_asked' as const };
      if (onPage.state === 'approved')
        return await executeWrite(rt, tool, args, ctx, plan, audit, started, {
          by: { approval_id: request.id },
          digest,
          who: { principal: ctx.principal.id, tool: tool.name, env: plan.env },
        });
      const out = {
        status: 'approval_required' as const,
        approval_id: request.id,
        action_digest: digest,
        summary: plan.summary,
        plan: planView,
        policy: policySummary(decision),
        may_not_approve: mayNotApprove(request),
        expires_at: request.expires_at,
        approve_with: `day2 approve ${request.id}`,
        ...(link.url ? { approve_url: link.url } : {}),
      };
      trace(rt, { 'day2.call.status': 'approval_required' });
      const asked =
        onPage.state === 'not_approved'
          ? `\nThe user was asked to open the approval page (${onPage.answer}); it was not decided within ${Math.round(MAX_APPROVAL_WAIT_MS / 1000)} s.`
          : '';
      return okResult(r, out, withPlan(approvalRequiredText(request, link.url) + asked, planView));
    }
    return await executeWrite(rt, tool, args, ctx, plan, audit, started, {
      by: redemption,
      digest,
      who: { principal: ctx.principal.id, tool: tool.name, env: plan.env },
    });
  }
  return await executeWrite(rt, tool, args, ctx, plan, audit, started);
}

async function executeWrite(
  rt: Governance,
  tool: AnyWriteTool,
  args: Record<string, unknown>,
  ctx: ToolContext,
  plan: ActionPlan,
  audit: AuditInput,
  started: number,
  redeem?: { by: Redemption; digest: string; who: { principal: string; tool: string; env: string } },
): Promise<CallToolResult> {
  const r = rt.deps.redactor;
  // The order is what makes this safe:
  // 1. The approval is consumed first (by its token or its id), by one atomic conditional update
  //    that checks the token's hash or the id, the requester, the digest, the state and the
  //    expiry. A refused one (unknown, another principal's, reused, expired, for another action)
  //    stops here with its own `approval.token_refused` record and never leaves a `tool.execute`;
  //    of two racing redemptions only one gets past this line.
  // 2. `tool.execute` is made durable. If that fails the approval is given back and nothing runs
  //    (fail closed, and the approval still works once the audit store does).
  // 3. Only then does the write run; `approval.consumed` follows its durable execute record.
  // A crash between 1 and 2 leaves the approval consumed and nothing executed: still closed (the
  // row says when it was consumed; the requester asks again). A crash after 2 leaves an execute
  // without outcome, as for any write that dies mid-way.
  const approval = redeem && (await rt.approvals.consume(redeem.by, redeem.digest, redeem.who));
  if (approval) {
    audit = { ...audit, approval: { id: approval.id } };
    trace(rt, { 'day2.approval.id': approval.id });
  }
  try {
    await rt.audit.append({ ...audit, event: 'tool.execute', outcome: undefined }, { durable: true });
  } catch (err) {
    if (redeem && approval)
      await rt.approvals.release(approval).catch((releaseErr: unknown) =>
        rt.deps.log.error('could not give back an approval whose write was not recorded', {
          approval_id: approval.id,
          error: releaseErr,
        }),
      );
    throw err;
  }
  if (redeem && approval) rt.approvals.consumed(approval, redeem.who);
  // Handed to the tool as decided here, so that no tool recomputes a digest or looks up approvers.
  const action = {
    digest: audit.action_digest ?? '',
    approval_id: approval?.id,
    approvers: approval
      ? approval.decisions.filter((d) => d.decision === 'approve').map((d) => d.principal)
      : [],
  };
  // execute gets the plan without the approver's view: what it acts on is in the preconditions,
  // which the digest binds, and nowhere else.
  const { details: _view, ...executable } = plan;
  let result: Record<string, unknown>;
  try {
    result = r.redact<Record<string, unknown>>(await tool.execute(args, { ...ctx, action }, executable));
  } catch (err) {
    const { message, code } = classify(err, tool);
    if (code === 'internal') rt.deps.log.error('write failed', { tool: tool.name, error: err });
    await auditQuietly(
      rt,
      {
        ...audit,
        event: 'tool.outcome',
        outcome: { ok: false, error: code, duration_ms: ms(started) },
        detail: { message: auditMessage(r, err) },
      },
      true,
    );
    trace(rt, { 'day2.call.status': 'failed', 'day2.error.code': code });
    return errorResult(r, message);
  }
  trace(rt, { 'day2.call.status': 'executed' });
  // Durable before the answer, with the approval.consumed queued before it: a caller told that a
  // write ran finds its whole trail in the audit even if this process dies right after answering.
  await auditQuietly(
    rt,
    { ...audit, event: 'tool.outcome', outcome: { ok: true, duration_ms: ms(started) } },
    true,
  );
  return okResult(
    r,
    { status: 'executed', action_digest: audit.action_digest, summary: plan.summary, result },
    tool.render(result, r.redact(actionArgs(args))),
  );
}

/**
 * URL-mode elicitation: where the client can open a page for its user and the rule takes the
 * approval page, day2 asks it to open `approve_url`; a human approves there, authenticated and out
 * of band, while this call waits (as get_approval does). Approved: the caller redeems the request
 * by id and the write runs in this same call. Denied: refused. Otherwise the usual
 * approval_required result. The page, not the client, is where the approval is made, so this is
 * safe for production writes; a form-mode "confirm" never is.
 */
async function approveOnPage(
  rt: Governance,
  tool: AnyTool,
  request: ApprovalRequest,
  url: string,
  session: CallSession,
  ctx: ToolContext,
): Promise<{ state: 'approved' } | { state: 'not_asked' } | { state: 'not_approved'; answer: string }> {
  if (!session.openUrl || request.status !== 'pending') return { state: 'not_asked' };
  const notBy = mayNotApprove(request);
  const answer = await session.openUrl(
    `day2: ${tool.name} in ${request.env} needs ${request.policy.approvals_needed} approval(s)` +
      `${notBy.length ? `, not by ${notBy.join(' or ')}` : ''}. Open the approval page to review the plan and approve or deny it: ${request.summary}`,
    url,
    request.id,
  );
  if (answer !== 'accept') return { state: 'not_approved', answer: `the user chose ${answer}` };
  const decided = await awaitApprovalDecision(
    rt.deps.store,
    rt.deps.clock,
    request.id,
    MAX_APPROVAL_WAIT_MS / 1000,
    ctx,
  );
  if (decided && decided.status !== 'pending') await session.urlDone?.(request.id).catch(() => undefined);
  if (decided?.status === 'approved') return { state: 'approved' };
  if (decided?.status === 'denied') {
    const d = decided.decisions.find((x) => x.decision === 'deny');
    throw new ToolError(
      `${tool.name} was denied on the approval page by ${d?.principal ?? 'an approver'}${d?.reason ? `: ${d.reason}` : ''}. Nothing was changed.`,
      'approval_denied',
    );
  }
  return { state: 'not_approved', answer: 'the user opened it' };
}

/**
 * A call governance or the tool refused before anything ran: one durable `tool.refused` record
 * that says why (the same sentence the model gets), then the error result.
 */
async function refuse(
  rt: Governance,
  tool: AnyTool,
  audit: AuditInput,
  code: string,
  why: string,
  started: number,
  detail?: Record<string, unknown>,
  structured?: Record<string, unknown>,
): Promise<CallToolResult> {
  const r = rt.deps.redactor;
  trace(rt, { 'day2.call.status': 'refused', 'day2.error.code': code });
  await auditQuietly(
    rt,
    {
      ...audit,
      event: 'tool.refused',
      outcome: { ok: false, error: code, duration_ms: ms(started) },
      detail: { ...detail, why: r.redactText(why) },
    },
    // Durable, so that the record is there when the model reads the refusal.
    true,
  );
  return errorResult(r, why, structured);
}

/** Errors that mean "refused, nothing ran": raised by governance, by a tool's checks, or a bad cursor. */
function isRefusal(err: unknown): boolean {
  return err instanceof ToolError || err instanceof ApprovalError;
}

async function tryElicitation(
  rt: Governance,
  tool: AnyTool,
  plan: Plan,
  decision: PolicyDecision,
  session: CallSession,
): Promise<'approved' | 'not_used'> {
  // Elicitation can be answered by software: only where the rule names it, one approver suffices,
  // and never in production, whatever a rule says.
  if (!decision.channels.includes('elicitation') || !session.elicit) return 'not_used';
  if (rt.tierOf(plan.env) === 'production' || decision.approvals > 1 || decision.distinct_from_requester)
    return 'not_used';
  const answer = await session.elicit(`day2: approve ${tool.name} in ${plan.env}?\n${plan.summary}`);
  await auditQuietly(
    rt,
    {
      event: answer === 'accept' ? 'approval.approved' : 'approval.denied',
      ...principalFields(session.principal),
      tool: tool.name,
      env: plan.env,
      approval: { channel: 'elicitation', answer },
    },
    true,
  );
  if (answer === 'accept') return 'approved';
  if (answer === 'unconfirmed')
    throw new ToolError(
      `${tool.name} was not approved: the approval prompt came back accepted but without confirm: true, which approves nothing. Ask again and have the user tick Approve, or have a human approve out of band.`,
      'approval_unconfirmed',
    );
  throw new ToolError(
    `The user ${answer === 'decline' ? 'declined' : 'cancelled'} ${tool.name} when asked to approve it.`,
    'approval_declined',
  );
}

/** How a call redeems its approval, if it does: the token get_approval gave, or the approval's id. */
function redemptionOf(args: Record<string, unknown>): Redemption | undefined {
  const token = str(args.approval_token);
  const id = str(args.approval_id);
  if (token && id)
    throw new ToolError(
      'approval_id: pass approval_token or approval_id, not both (approval_id is enough for the principal that requested the action).',
      'invalid_input',
      'approval_id',
    );
  if (token) return { token };
  return id ? { approval_id: id } : undefined;
}

function requestedDurationMs(args: Record<string, unknown>): number | undefined {
  const d = args.duration ?? args.duration_minutes;
  if (typeof d === 'number') return args.duration_minutes !== undefined ? d * 60_000 : d;
  // The tools' own parser: the policy caps exactly the duration the tool will use.
  return typeof d === 'string' ? durationMs(d) : undefined;
}

function classify(err: unknown, tool: AnyTool): { message: string; code: string } {
  if (err instanceof ToolError) return { message: err.message, code: err.code };
  if (err instanceof ApprovalError) return { message: err.message, code: err.code };
  if (err instanceof StoreUnavailableError)
    return tool.effect === 'write'
      ? {
          message: `The audit store cannot be written, so ${tool.name} was refused (day2 never changes anything it cannot record). ${err.message}`,
          code: 'audit_unavailable',
        }
      : {
          // A read changes nothing: say what failed, not what a write would have done.
          message: `${tool.name} could not use day2's store: ${err.message}. Try again once the store is back.`,
          code: 'store_unavailable',
        };
  const backend = describeBackendError(err);
  if (backend) return backend;
  if (isAbort(err)) return { message: `${tool.name} was cancelled.`, code: 'cancelled' };
  return {
    message: `${tool.name} failed with an internal error; the details are in the day2 log.`,
    code: 'internal',
  };
}

/** A failure as the audit record keeps it: the message, plus the backend's own text, redacted by shape. */
function auditMessage(r: Redactor, err: unknown): string {
  const message = r.redactText(err instanceof Error ? err.message : String(err));
  const server = serverMessageOf(err);
  return server === undefined ? message : `${message}; server said: ${r.redactLogLine(server)}`;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

async function auditQuietly(rt: Governance, input: AuditInput, durable = false): Promise<void> {
  const queue = () =>
    void rt.audit
      .append(input)
      .catch((err: unknown) => rt.deps.log.error('audit append failed', { error: err }));
  if (!durable) return queue();
  // What already happened is recorded whatever it takes: a store that is restarting gets a few
  // seconds to come back before the answer, then the record goes to the log's own retry queue.
  for (let attempt = 0; ; attempt++) {
    try {
      await rt.audit.append(input, { durable: true });
      return;
    } catch (err) {
      if (attempt >= DURABLE_RETRIES.length) {
        rt.deps.log.error('audit append failed', { error: err, event: input.event, tool: input.tool });
        return queue();
      }
      await new Promise((r) => setTimeout(r, DURABLE_RETRIES[attempt]));
    }
  }
}

/** Waits between attempts at a durable record of something that already happened (7.75 s in all). */
const DURABLE_RETRIES = [250, 500, 1000, 2000, 4000];

function policyFields(rt: Governance, d: PolicyDecision) {
  return { version: rt.policy.version, hash: rt.policy.hash, rule: d.rule, decision: d.decision };
}

/**
 * Governance's facts on the request's span, where telemetry is on: decisions, ids and digests,
 * never arguments or results.
 */
function trace(rt: Governance, attributes: Record<string, string | undefined>): void {
  rt.telemetry?.annotate(attributes);
}

function policyAttributes(d: PolicyDecision) {
  return { 'day2.policy.decision': d.decision, 'day2.policy.rule': d.rule };
}

function policySummary(d: PolicyDecision) {
  return {
    rule: d.rule,
    decision: d.decision,
    approvals_needed: d.approvals,
    distinct_approver: d.distinct_from_requester,
    reason_required: d.reason_required,
    channels: d.channels,
    reason: d.reason,
  };
}

/** What policy decided, in words: the rule and, for an approval, how many and who. */
function decisionText(d: PolicyDecision): string {
  if (d.decision !== 'require_approval') return `rule "${d.rule}" ${d.decision}s it`;
  return `rule "${d.rule}" requires ${d.approvals} approval(s)${d.distinct_from_requester ? ' from others than the requester' : ''}${d.reason_required ? ' with a reason' : ''} through ${d.channels.join(' or ')}`;
}

/**
 * The call again, as text a model can send: the arguments as given, unless one is secret-named, in
 * which case the text says so in words instead of echoing (or masking) it.
 */
function nextCall(r: Redactor, tool: string, args: Record<string, unknown>): string {
  const shown = r.redact(args);
  return canonicalJson(shown) === canonicalJson(args)
    ? callText(tool, args)
    : `${tool} with the same arguments (without dry_run)`;
}

/**
 * A write's text with its plan, short, as the approver sees it: the plan's warnings and notes
 * whole, then one line per part, within the text budget.
 */
function withPlan(head: string, plan: Record<string, unknown>, tail: string[] = []): string {
  const { notes, rows } = planText(plan);
  return answerText({ head: [head, ...notes, rows.length > 0 && 'Plan:'], rows, tail });
}

function principalFields(p: Principal) {
  return { principal: p.id, client: p.client, transport: p.transport, session: p.session };
}

function okResult(r: Redactor, structured: Record<string, unknown>, text: string): CallToolResult {
  return { content: [{ type: 'text', text: capText(r.redactText(text)) }], structuredContent: structured };
}

function errorResult(r: Redactor, text: string, structured?: Record<string, unknown>): CallToolResult {
  const result: CallToolResult = {
    content: [{ type: 'text', text: capText(r.redactText(text)) }],
    isError: true,
  };
  if (structured) result.structuredContent = structured;
  return result;
}

/**
 * The env and service a read concerns, for policy and audit: the service as the catalog's resolver
 * names it, so that a rule or an audit search on `api-gateway` also covers a call that said
 * `edge-gateway`. A name the catalog does not know stays as given (the tool refuses it).
 */
function readScope(rt: Governance, args: Record<string, unknown>): { env?: string; service?: string } {
  const env = str(args.env);
  const named = str(args.service);
  return { env, service: named && (rt.deps.catalog.resolver.findEntity(named, env)?.id ?? named) };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function ms(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
