import type { Notifier } from '../providers/notify/notifier.js';
import type { AnyTool } from '../contract/define-tool.js';
import type { ResourceDefinition } from '../contract/define-resource.js';
import type { PromptDefinition } from '../contract/define-prompt.js';
import type { CancelBus } from '../store/cancel-bus.js';
import type { Governance } from '../guards/governance.js';

/**
 * Everything one day2 process shares across sessions: dependencies, governance and the registry.
 * Built once by server.ts (or a test); each MCP session gets its own Server over it.
 */
export interface Runtime extends Governance {
  notifier: Notifier;
  /** Filled once the registry is loaded; see registryReady. */
  tools: readonly AnyTool[];
  resources: readonly ResourceDefinition[];
  prompts: readonly PromptDefinition[];
  /** Settles once tools, resources and prompts are loaded (they may load after initialize). */
  registryReady?: Promise<void>;
  /** Settles when backends and catalog are in place; handlers that need them wait for it. */
  ready?: Promise<void>;
  /**
   * How HTTP cancellations reach calls on the other replicas of this store: one per process, opened
   * on first use (a process that serves no HTTP never holds its connection) and closed with the runtime.
   */
  cancelBus(): CancelBus;
}
