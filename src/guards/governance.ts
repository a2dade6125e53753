import type { Deps } from '../contract/deps.js';
import type { Approvals, AuditSink } from './approvals.js';
import type { Policy } from './policy.js';
import type { Telemetry } from '../core/telemetry.js';

/** What the governed path needs from a runtime: dependencies, policy, approvals, audit and tiers. */
export interface Governance {
  deps: Deps;
  policy: Policy;
  audit: AuditSink;
  approvals: Approvals;
  /** Tier of each configured environment, for policy. */
  tierOf(env: string): 'production' | 'staging' | 'development' | undefined;
  /** Where the governed path records its decisions on the request's span; absent, nothing is traced. */
  telemetry?: Telemetry;
}
