import type { Principal } from '../core/principal.js';
import type { Governance } from './governance.js';

/** A resource read that policy refused; the server answers it as an MCP error with the reason. */
export class ResourceReadDenied extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceReadDenied';
  }
}

export interface ResourceReadRequest {
  /** The URI read (a template's URI with its variables filled in). */
  uri: string;
  /** The resource's name, which policy rules match as `tool` (e.g. `audit-recent`). */
  name: string;
  principal: Principal;
  /** The environment a templated resource concerns, where it has one. */
  env?: string;
  /** Why it is read when no client asked (a subscription's poll); recorded in the audit detail. */
  via?: 'subscription';
}

/**
 * The one path every resource read takes, template reads and subscription polls included:
 * policy (a read of the resource, matched by its name and the `resources` toolset) → read →
 * redact → audit. Reads are audited after the answer is known, off the reply's path.
 */
export async function governedResourceRead<T>(
  gov: Governance,
  req: ResourceReadRequest,
  read: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const decision = gov.policy.evaluate({
    env: req.env,
    tier: req.env ? gov.tierOf(req.env) : undefined,
    tool: req.name,
    toolset: 'resources',
    effect: 'read',
    risk: 'low',
    principal: req.principal.id,
  });
  const policy = {
    version: gov.policy.version,
    hash: gov.policy.hash,
    rule: decision.rule,
    decision: decision.decision,
  };
  if (decision.decision !== 'allow') {
    auditResourceRead(gov, req, started, { ok: false, error: 'policy_denied' }, policy);
    throw new ResourceReadDenied(
      `Policy denies reading ${req.uri}: ${decision.reason} (rule "${decision.rule}").`,
    );
  }
  let content: T;
  try {
    content = gov.deps.redactor.redact(await read());
  } catch (err) {
    auditResourceRead(
      gov,
      req,
      started,
      { ok: false, error: err instanceof Error ? err.name : 'error' },
      policy,
    );
    throw err;
  }
  auditResourceRead(gov, req, started, { ok: true }, policy);
  return content;
}

/** A `resource.read` record, appended in the background; a failed append is logged. */
export function auditResourceRead(
  gov: Governance,
  req: Pick<ResourceReadRequest, 'principal' | 'env' | 'via'> & { uri: string | undefined },
  started: number,
  outcome: { ok: boolean; error?: string },
  policy?: { version: string; hash: string; rule: string; decision: string },
  detail?: Record<string, unknown>,
): void {
  const p = req.principal;
  void gov.audit
    .append(
      {
        event: 'resource.read',
        principal: p.id,
        client: p.client,
        transport: p.transport,
        env: req.env,
        resource: req.uri,
        policy,
        outcome: { ...outcome, duration_ms: Math.round(performance.now() - started) },
        detail: req.via ? { ...detail, via: req.via } : detail,
      },
      { relaxed: true },
    )
    .catch((err: unknown) => gov.deps.log.error('audit append failed', { error: err }));
}
