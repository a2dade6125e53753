import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/schema.js';
import { ApprovalError } from '../guards/approvals.js';
import { approvers } from '../guards/approver-check.js';
import type { Logger } from '../core/log.js';
import type { Runtime } from '../server/runtime.js';
import type { ApprovalRequest } from '../store/store.js';
import { APPROVALS_PATH, PAGE_CHANNEL } from '../guards/approval-link.js';
import { BearerAuth } from './bearer-auth.js';
import type { OAuthResource } from './oauth-resource.js';
import { CALLBACK_PATH, LOGIN_PATH, LoginError, type ApproverLogin } from './approver-login.js';
import { BodyTooLargeError, readBody } from './read-body.js';

const ID = /^apr_[a-z0-9]{4,64}$/;
const FORM_LIMIT = 16 * 1024;
const REALM = 'Basic realm="day2 approvals", charset="UTF-8"';

/**
 * The approval page: an approver reads a request's plan in a browser and approves or denies it,
 * as `day2 approve` does on a terminal. It is off unless `http.approvers` names people, and those
 * are a list apart from `http.tokens`: no token an agent holds can approve.
 *
 * - Approvers sign in with HTTP Basic (principal and their token), which every replica checks on
 *   its own: no session, no cookie. Put TLS in front of any address that is not loopback.
 * - With `http.oauth`, an access token that carries the approve scope signs in too (Bearer). The
 *   approve scope is honoured here only: /mcp never consults it, so no MCP tool can approve.
 * - A decision is a form POST that carries the action digest the approver saw (a request whose
 *   action changed is refused) and a form token: an HMAC of request, digest and approver keyed
 *   with a secret only that approver's token yields. A page on another site cannot forge it, and
 *   the server's Origin check refuses such a POST before it gets here.
 * - The decision goes through Approvals like any other, recorded under the channel `http`: a
 *   policy rule accepts it only when its `channels` list `http`, and separation of duties holds.
 * - Everything shown is escaped; plans and arguments are stored redacted. The approval token is
 *   never shown: the requesting assistant reads it with get_approval.
 */
export class ApprovalPage {
  private readonly auth: BearerAuth;
  private oauth?: OAuthResource;
  private login?: ApproverLogin;

  constructor(
    private readonly runtime: Runtime,
    approverTokens: Config['http']['approvers'],
    env: NodeJS.ProcessEnv,
    private readonly log: Logger,
  ) {
    this.auth = new BearerAuth(approverTokens, env, log);
  }

  /** Let access tokens with the approve scope sign in (known once the server has its address). */
  acceptTokens(oauth: OAuthResource, login?: ApproverLogin): void {
    this.oauth = oauth;
    this.login = login;
  }

  static handles(path: string): boolean {
    return path === APPROVALS_PATH || path.startsWith(`${APPROVALS_PATH}/`);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!this.auth.configured && !this.oauth)
      return page(res, 404, 'Approval page is off', [
        p('No approver is configured: list the people who approve under http.approvers in day2.yaml.'),
      ]);
    if (this.login && (path === LOGIN_PATH || path === CALLBACK_PATH)) {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      try {
        if (path === LOGIN_PATH)
          return await this.login.start(
            res,
            new URL(req.url ?? '/', 'http://x').searchParams.get('next') ?? '',
          );
        return await this.login.finish(req, res);
      } catch (err) {
        if (!(err instanceof LoginError)) throw err;
        return page(res, err.status, 'Sign-in failed', [p(esc(err.message))]);
      }
    }
    const bearer = this.oauth && /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const who = bearer
      ? await this.tokenSignIn(res, bearer)
      : (this.signIn(req.headers.authorization) ?? (await this.login?.signedIn(req.headers.cookie)));
    if (who === 'answered') return;
    if (!who) {
      if (this.auth.configured) res.setHeader('WWW-Authenticate', REALM);
      const ways = [
        this.login &&
          `<a href="${LOGIN_PATH}?next=${encodeURIComponent(path)}">Sign in with your organisation's account</a>`,
        this.auth.configured && 'sign in with your principal and your approver token',
      ].filter(Boolean);
      return page(res, 401, 'Sign in', [p(`${ways.join(', or ')}.`)]);
    }
    if (path === APPROVALS_PATH) {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return this.list(res, who.principal);
    }
    const id = path.slice(APPROVALS_PATH.length + 1);
    if (!ID.test(id)) return page(res, 404, 'Not found', [p('That is not an approval id.')]);
    const request = await this.runtime.deps.store.getApproval(id);
    if (!request) return page(res, 404, 'Not found', [p(`No approval request ${id}.`)]);
    if (req.method === 'GET') return this.show(res, request, who);
    if (req.method === 'POST') return this.decide(req, res, request, who);
    return methodNotAllowed(res, 'GET, POST');
  }

  private signIn(authorization: string | undefined): Approver | undefined {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!m?.[1]) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    // Decisions are recorded under the principal as configured, whatever spelling signed in.
    const found = this.auth.verify(decoded.slice(0, colon), decoded.slice(colon + 1));
    return found ? { principal: found.principal, key: found.digest } : undefined;
  }

  /**
   * An access token with the approve scope; anything else is answered here (401 or 403). The
   * form-token key is a digest of the token, which only its holder can derive.
   */
  private async tokenSignIn(res: ServerResponse, token: string): Promise<Approver | 'answered' | undefined> {
    const oauth = this.oauth!;
    const checked = await oauth.verify(token);
    if (!checked.ok) {
      if (checked.unavailable) {
        page(res, 503, 'Unavailable', [
          p('The authorization server keys could not be read; try again shortly.'),
        ]);
        return 'answered';
      }
      res.setHeader(
        'WWW-Authenticate',
        oauth.challenge({ error: 'invalid_token', description: checked.reason }),
      );
      page(res, 401, 'Sign in', [p(`The access token was refused: ${esc(checked.reason)}.`)]);
      return 'answered';
    }
    if (!checked.holder.rights.has('approve')) {
      this.log.warn('approval page: an access token without the approve scope was refused', {
        principal: checked.holder.principal,
      });
      res.setHeader(
        'WWW-Authenticate',
        oauth.challenge({ error: 'insufficient_scope', scope: oauth.scopeFor(['approve']) }),
      );
      page(res, 403, 'Forbidden', [
        p(`Deciding on approvals needs the scope ${esc(oauth.scopeFor(['approve']))}.`),
      ]);
      return 'answered';
    }
    return { principal: checked.holder.principal, key: createHash('sha256').update(token).digest() };
  }

  private async list(res: ServerResponse, principal: string): Promise<void> {
    const pending = await this.runtime.approvals.pending(100);
    const rows = pending.map(
      (r) =>
        `<tr><td><a href="${APPROVALS_PATH}/${esc(r.id)}">${esc(r.id)}</a></td><td>${esc(r.env)}</td><td>${esc(r.tool)}</td>` +
        `<td>${esc(r.requester)}</td><td>${approvers(r).length}/${r.policy.approvals_needed}</td><td>${esc(r.expires_at)}</td><td>${esc(r.summary)}</td></tr>`,
    );
    return page(res, 200, 'Pending approvals', [
      p(`Signed in as ${esc(principal)}.`),
      rows.length
        ? `<table><tr><th>ID</th><th>Env</th><th>Tool</th><th>Requester</th><th>Approvals</th><th>Expires</th><th>Summary</th></tr>${rows.join('')}</table>`
        : p('No pending approvals.'),
    ]);
  }

  private show(
    res: ServerResponse,
    r: ApprovalRequest,
    who: Approver,
    notice?: { status: number; text: string },
  ): void {
    const got = approvers(r);
    const open = r.status === 'pending' && Date.parse(r.expires_at) > this.runtime.deps.clock.now().getTime();
    const byPage = r.policy.channels.includes(PAGE_CHANNEL);
    const field = (name: string, value: string) => `<tr><th>${name}</th><td>${value}</td></tr>`;
    const parts = [
      notice ? `<p class="notice">${esc(notice.text)}</p>` : '',
      `<table>${[
        field('Status', `<strong>${esc(r.status)}</strong>`),
        field('Environment', esc(r.env)),
        field('Tool', esc(r.tool)),
        r.service ? field('Service', esc(r.service)) : '',
        field('Requester', esc(r.requester)),
        field('Requested', `${esc(r.created_at)} (expires ${esc(r.expires_at)})`),
        field(
          'Policy',
          `rule "${esc(r.policy.rule)}" (policy ${esc(r.policy.version)}): ${r.policy.approvals_needed} approval(s)` +
            `${r.policy.distinct_from_requester ? ', approvers other than the requester' : ''}` +
            `${r.policy.reason_required ? ', reason required' : ''}; channels ${esc(r.policy.channels.join(', '))}`,
        ),
        field(
          'Approvals',
          `${got.length} of ${r.policy.approvals_needed}${got.length ? ` (${esc(got.join(', '))})` : ''}`,
        ),
        field('Action digest', `<code>${esc(r.action_digest)}</code>`),
      ].join('')}</table>`,
      '<h2>Arguments</h2>',
      `<pre>${esc(JSON.stringify(r.args ?? {}, null, 2))}</pre>`,
      '<h2>Plan</h2>',
      `<pre>${esc(JSON.stringify(r.plan ?? {}, null, 2))}</pre>`,
    ];
    if (open) {
      parts.push(
        byPage
          ? ''
          : p(
              `Policy rule "${esc(r.policy.rule)}" does not accept approvals through this page; approve with day2 approve ${esc(r.id)}. You can still deny it here.`,
            ),
        `<form method="post" action="${APPROVALS_PATH}/${esc(r.id)}">` +
          `<input type="hidden" name="digest" value="${esc(r.action_digest)}">` +
          `<input type="hidden" name="form_token" value="${formToken(who, r)}">` +
          `<p><label>Reason${r.policy.reason_required ? ' (required)' : ''}<br><textarea name="reason" rows="3" cols="80"></textarea></label></p>` +
          `<p>${byPage ? '<button name="decision" value="approve">Approve as ' + esc(who.principal) + '</button> ' : ''}` +
          `<button name="decision" value="deny">Deny</button></p></form>`,
      );
    } else if (r.status === 'approved') {
      parts.push(p('Approved: the requesting assistant can read its single-use token with get_approval.'));
    }
    return page(res, notice?.status ?? 200, r.summary, parts);
  }

  private async decide(
    req: IncomingMessage,
    res: ServerResponse,
    r: ApprovalRequest,
    who: Approver,
  ): Promise<void> {
    let form: URLSearchParams;
    try {
      form = new URLSearchParams((await readBody(req, FORM_LIMIT)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLargeError) return page(res, 413, 'Too large', [p('The form is too large.')]);
      throw err;
    }
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny')
      return page(res, 400, 'Bad request', [p('decision: expected approve or deny.')]);
    const presented = Buffer.from(form.get('form_token') ?? '', 'utf8');
    const expected = Buffer.from(formToken(who, r), 'utf8');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      this.log.warn('approval page: a decision came without a valid form token; nothing recorded', {
        approval_id: r.id,
        principal: who.principal,
      });
      return page(res, 403, 'Forbidden', [
        p('The form token is not valid: open the request again and decide there.'),
      ]);
    }
    if (form.get('digest') !== r.action_digest)
      return page(res, 409, 'The action changed', [
        p('This request is not the one you read: open it again.'),
      ]);
    const reason = form.get('reason')?.trim() || undefined;
    try {
      const updated =
        decision === 'approve'
          ? await this.runtime.approvals.approve(r.id, who.principal, { reason, channel: PAGE_CHANNEL })
          : await this.runtime.approvals.deny(r.id, who.principal, { reason, channel: PAGE_CHANNEL });
      res.setHeader('Location', `${APPROVALS_PATH}/${updated.id}`);
      return page(res, 303, 'Recorded', [p(`Recorded: ${esc(updated.status)}.`)]);
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      return this.show(res, r, who, { status: 409, text: `Not recorded: ${err.message}` });
    }
  }
}

interface Approver {
  principal: string;
  /** A secret derived from the approver's token; keys their form tokens. */
  key: Buffer;
}

/** Binds a form to one approver, one request and the action it was shown with. */
function formToken(who: Approver, r: ApprovalRequest): string {
  return createHmac('sha256', who.key).update(`${r.id}\n${r.action_digest}\n${who.principal}`).digest('hex');
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  return page(res, 405, 'Method not allowed', [p(`Use ${allow}.`)]);
}

function p(html: string): string {
  return `<p>${html}</p>`;
}

const STYLE =
  'body{font:15px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}th{text-align:left;padding-right:1em;vertical-align:top}' +
  'td{padding-right:1em}pre{background:#f4f4f4;padding:1em;overflow:auto}.notice{background:#fff3cd;padding:.5em}' +
  'button{font-size:1em;padding:.4em 1em}';

/** An HTML page with headers that keep it out of caches, frames and other origins' reach. */
function page(res: ServerResponse, status: number, title: string, body: string[]): void {
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · day2</title>` +
    `<style>${STYLE}</style></head><body><h1>${esc(title)}</h1>${body.join('')}</body></html>`;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(html);
}

/** HTML-escapes text for element content and quoted attribute values. */
export function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
