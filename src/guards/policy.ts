import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { canonicalJson, sha256Hex } from '../core/canonical-json.js';
import { canonicalPrincipal } from '../core/principal.js';
import {
  policySchema,
  type Config,
  type PolicyDocument,
  type PolicyRule,
  type Tier,
} from '../config/schema.js';
import type { Effect, Risk } from '../contract/define-tool.js';
import { formatZodIssues } from '../core/format-issues.js';

/** What policy looks at for one call. */
export interface PolicyInput {
  env?: string;
  tier?: Tier;
  tool: string;
  toolset: string;
  effect: Effect;
  risk: Risk;
  service?: string;
  principal: string;
  destroys?: string[];
}

export interface PolicyDecision {
  decision: 'allow' | 'deny' | 'require_approval';
  rule: string;
  reason: string;
  approvals: number;
  distinct_from_requester: boolean;
  reason_required: boolean;
  ttl_ms?: number;
  channels: string[];
  notify_owners: boolean;
  max_duration_ms?: number;
}

const DESTRUCTIVE_KINDS = ['namespace', 'database', 'secret'];

/**
 * The built-in rules, appended after a policy's own rules unless it sets include_defaults: false.
 * First match wins; a call no rule matches is denied.
 */
export const DEFAULT_RULES: PolicyRule[] = [
  rule({
    id: 'deny-destructive-deletes',
    match: { destroys: DESTRUCTIVE_KINDS },
    decision: 'deny',
    reason: 'deleting namespaces, databases or secrets is never done through day2',
  }),
  rule({
    id: 'scale-to-zero-non-production-only',
    match: { tool: 'scale_idle_to_zero', tier: 'production' },
    decision: 'deny',
    reason: 'scaling idle workloads to zero is allowed outside production only',
  }),
  rule({
    id: 'production-credential-rotation',
    match: { tool: 'rotate_credential', tier: 'production' },
    decision: 'require_approval',
    approvals: 2,
    distinct_from_requester: true,
    reason_required: true,
    notify_owners: true,
    reason: 'rotating a production credential needs two approvers other than the requester',
  }),
  rule({
    id: 'production-access-grant',
    match: { tool: 'grant_access', tier: 'production' },
    decision: 'require_approval',
    approvals: 1,
    distinct_from_requester: true,
    reason_required: true,
    max_duration: 8 * 3_600_000,
    reason: 'production access is time-bound (at most 8 h) and approved by someone else',
  }),
  rule({
    id: 'production-critical-writes',
    match: { effect: 'write', risk: 'critical', tier: 'production' },
    decision: 'require_approval',
    approvals: 2,
    distinct_from_requester: true,
    reason: 'critical writes in production need two approvers other than the requester',
  }),
  rule({
    id: 'writes-need-approval',
    match: { effect: 'write' },
    decision: 'require_approval',
    reason: 'every write needs a human approval',
  }),
  rule({
    id: 'reads-and-records-allowed',
    match: { effect: ['read', 'record'] },
    decision: 'allow',
    reason: 'reads and day2 records are allowed',
  }),
];

function rule(r: Partial<PolicyRule> & Pick<PolicyRule, 'id' | 'decision'>): PolicyRule {
  return {
    match: {},
    approvals: 1,
    distinct_from_requester: false,
    reason_required: false,
    channels: ['cli'],
    notify_owners: false,
    ...r,
  };
}

/** A loaded policy: its rules in order, a version, and the hash every audit record carries. */
export class Policy {
  readonly hash: string;
  constructor(
    readonly version: string,
    readonly rules: readonly PolicyRule[],
  ) {
    this.hash = sha256Hex(canonicalJson({ version, rules }));
  }

  evaluate(input: PolicyInput): PolicyDecision {
    for (const r of this.rules) {
      if (matches(r, input)) {
        return {
          decision: r.decision,
          rule: r.id,
          reason: r.reason ?? r.description ?? r.id,
          approvals: r.approvals,
          distinct_from_requester: r.distinct_from_requester,
          reason_required: r.reason_required,
          ttl_ms: r.ttl,
          channels: r.channels,
          notify_owners: r.notify_owners,
          max_duration_ms: r.max_duration,
        };
      }
    }
    return {
      decision: 'deny',
      rule: 'no-matching-rule',
      reason: 'no policy rule matches this call, so it is denied',
      approvals: 1,
      distinct_from_requester: false,
      reason_required: false,
      channels: [],
      notify_owners: false,
    };
  }
}

function matches(r: PolicyRule, input: PolicyInput): boolean {
  const m = r.match;
  return (
    field(m.env, input.env) &&
    field(m.tier, input.tier) &&
    field(m.tool, input.tool) &&
    field(m.toolset, input.toolset) &&
    field(m.effect, input.effect) &&
    field(m.risk, input.risk) &&
    field(m.service, input.service) &&
    principalField(m.principal, input.principal) &&
    (m.destroys === undefined || (input.destroys ?? []).some((d) => field(m.destroys, d)))
  );
}

function field(want: string | string[] | undefined, have: string | undefined): boolean {
  if (want === undefined) return true;
  if (have === undefined) return false;
  const list = typeof want === 'string' ? [want] : want;
  return list.some((w) => (w.includes('*') ? globToRegExp(w).test(have) : w === have));
}

/** A principal matches in canonical form, so `Agent-7` cannot slip past a rule about `agent-7`. */
function principalField(want: string | string[] | undefined, have: string | undefined): boolean {
  if (want === undefined) return true;
  const list = (typeof want === 'string' ? [want] : want).map(canonicalPrincipal);
  return field(list, have === undefined ? undefined : canonicalPrincipal(have));
}

const globCache = new Map<string, RegExp>();
function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp(
      '^' +
        glob
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*') +
        '$',
    );
    globCache.set(glob, re);
  }
  return re;
}

export class PolicyLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyLoadError';
  }
}

/** Builds the effective policy from config: inline rules, a rules file, or the defaults alone. */
export function loadPolicy(config: Config, baseDir: string): Policy {
  const spec = config.policy;
  if (!spec) return new Policy('default', DEFAULT_RULES);
  let doc: PolicyDocument;
  if ('file' in spec) {
    const path = resolve(baseDir, spec.file);
    let raw: unknown;
    try {
      raw = parseYaml(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new PolicyLoadError(`${path}: cannot read the policy file: ${(err as Error).message}`);
    }
    const parsed = policySchema.safeParse(raw);
    if (!parsed.success) throw new PolicyLoadError(formatZodIssues(parsed.error, path).join('\n'));
    doc = parsed.data;
  } else {
    doc = spec;
  }
  return new Policy(doc.version, doc.include_defaults ? [...doc.rules, ...DEFAULT_RULES] : doc.rules);
}
