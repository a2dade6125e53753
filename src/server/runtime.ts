import type { Notifier } from '../providers/notify/notifier.js';
import type { CancelBus } from '../store/cancel-bus.js';
import type { Governance } from '../guards/governance.js';
import type { Registry } from './registry.js';
import type { Telemetry } from '../core/telemetry.js';

/**
 * Everything one day2 process shares across sessions: dependencies, governance and the registry.
 * Built once, complete, by buildRuntime (serve, a CLI command, a test) and never changed after:
 * configuration, backends and catalog are in place before anything can read them.
 */
export interface Runtime extends Governance, Registry {
  notifier: Notifier;
  /**
   * How HTTP cancellations reach calls on the other replicas of this store: one per process, opened
   * on first use (a process that serves no HTTP never holds its connection) and closed with the runtime.
   */
  cancelBus(): CancelBus;
}

/**
 * A runtime still being built, as `day2 serve` on stdio has it: the registry comes first (it is
 * all that tools/list and prompts/list need), the runtime once the backends are up. A session
 * answers initialize at once and each handler waits for what it needs.
 */
export interface PendingRuntime {
  registry: Promise<Registry>;
  runtime: Promise<Runtime>;
  /** The runtime's telemetry, known before the runtime: requests are traced while it is built. */
  telemetry?: Telemetry;
}

/** What a session is served from: a built runtime, or one on its way. */
export type RuntimeSource = Runtime | PendingRuntime;

export function isPending(src: RuntimeSource): src is PendingRuntime {
  return 'runtime' in src && src.runtime instanceof Promise;
}
