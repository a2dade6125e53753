import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ManualClock } from '../../../src/core/clock.js';
import { allTools } from '../../../src/tools/index.js';
import { incidentTools } from '../../../src/tools/incidents/index.js';
import { startAlertReconciler, type AlertReconciler } from '../../../src/sandbox/alert-reconciler.js';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

export interface IncidentHarness extends SandboxHarness {
  clock: ManualClock;
  reconciler: AlertReconciler;
  client: Client;
  call(
    name: string,
    args: Record<string, unknown>,
  ): Promise<CallToolResult & { structuredContent?: Record<string, unknown> }>;
}

/**
 * The shared sandbox harness (demo fleet, emulators, the real Alertmanager) with the incident tools
 * registered (until the lead adds them to the registry), the sandbox alert reconciler running, and
 * one MCP client acting as agent-bot.
 */
export async function startIncidentHarness(
  opts: { timeoutMs?: number; mirrorIncidents?: string[]; fleet?: string } = {},
): Promise<IncidentHarness> {
  const names = new Set(allTools.map((t) => t.name));
  const h = await startSandboxHarness({
    fleet: opts.fleet,
    extraTools: incidentTools.filter((t) => !names.has(t.name)),
    config: { backends: { timeout: opts.timeoutMs ?? 10_000, retries: 0 } },
  });
  for (const env of opts.mirrorIncidents ?? [])
    h.rt.deps.config.environments[env]!.datadog!.mirror_incidents = true;
  const reconciler = startAlertReconciler(h.sandbox, { everyMs: 100 });
  const client = await h.connect('agent-bot');
  const close = h.close.bind(h);
  return Object.assign(h, {
    clock: h.clock as ManualClock,
    reconciler,
    client,
    call: (name: string, args: Record<string, unknown>) =>
      client.callTool({ name, arguments: args }) as ReturnType<IncidentHarness['call']>,
    close: async () => {
      reconciler.stop();
      await close();
    },
  });
}
