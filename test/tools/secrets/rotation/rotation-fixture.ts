import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { createLogger, type Logger } from '../../../../src/core/log.js';
import { Redactor } from '../../../../src/core/redact.js';
import { allTools } from '../../../../src/tools/index.js';
import { secretTools } from '../../../../src/tools/secrets/index.js';
import { parseDbCredential } from '../../../../src/tools/secrets/rotation/credential-value.js';
import { startSandboxHarness, type SandboxHarness } from '../../../fixtures/sandbox-harness.js';
import { issuedToken } from '../../../fixtures/approval-token.js';

export type ToolResult = CallToolResult & { structuredContent?: Record<string, unknown> };

export interface RotationHarness extends SandboxHarness {
  /** The sandbox's own PostgreSQL cluster: scram-sha-256 on `port`, the superuser over its socket. */
  pg: { port: number; adminUrl: string };
  client: Client;
  logs: string[];
  /** Every tool result the test run produced, for the canary scan. */
  results: ToolResult[];
  progress: string[];
  call(name: string, args: Record<string, unknown>): Promise<ToolResult>;
  /** Plans, has bob and carol approve, and executes with the token. */
  approveAndRun(args: Record<string, unknown>): Promise<{ plan: ToolResult; result: ToolResult }>;
  /** The secret's value at a stage, parsed (the test reads it through the provider, i.e. the AWS SDK). */
  credential(
    secret: string,
    stage?: string,
  ): Promise<{ username: string; password: string; versionId: string }>;
  stages(secret: string): Promise<Record<string, string[]>>;
  /** Whether user/password authenticate against the sandbox's PostgreSQL. */
  logsIn(user: string, password: string, dbname?: string): Promise<boolean>;
  /** Every password the run has seen, for the canary scan. */
  seen: Set<string>;
}

/**
 * The sandbox harness with the secrets tools registered, over the sandbox's own PostgreSQL cluster
 * (password auth, as a real server: the credential secrets name its port).
 */
export async function startRotationHarness(): Promise<RotationHarness> {
  const logs: string[] = [];
  const redactor = new Redactor();
  const log: Logger = createLogger({ redactor, level: 'debug', sink: (line) => logs.push(line) });
  const names = new Set(allTools.map((t) => t.name));
  const h = await startSandboxHarness({
    postgres: true,
    alertmanager: false,
    log,
    redactor,
    extraTools: secretTools.filter((t) => !names.has(t.name)),
    config: {
      rotation: { verify_window: 1, restart_timeout: 20_000 },
      backends: { timeout: 10_000, retries: 1 },
    },
  });
  const server = h.sandbox.postgres;
  if (!server?.ownCluster) {
    await h.close();
    throw new Error(
      'the rotation tests need the sandbox to run its own PostgreSQL cluster (postgresql-15 server binaries)',
    );
  }
  const pg = { port: server.port, adminUrl: server.adminUrl };
  const client = await h.connect('alice');
  const results: ToolResult[] = [];
  const progress: string[] = [];
  const seen = new Set<string>();
  const sm = h.sandbox.backends.secrets('prod');
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args }, undefined, {
      onprogress: (p) => void progress.push(p.message ?? ''),
      timeout: 120_000,
    })) as ToolResult;
    results.push(r);
    return r;
  };
  const credential = async (secret: string, stage = 'AWSCURRENT') => {
    const v = await sm.getSecretValue(secret, { versionStage: stage });
    const c = parseDbCredential(v.value)!;
    seen.add(c.password);
    return { username: c.username, password: c.password, versionId: v.versionId };
  };
  return Object.assign(h, {
    pg,
    client,
    logs,
    results,
    progress,
    seen,
    call,
    credential,
    stages: async (secret: string) => (await sm.describeSecret(secret)).versionStages,
    async logsIn(user: string, password: string, dbname = 'postgres') {
      try {
        await h.rt.deps.backends.postgres.testLogin(
          { host: '127.0.0.1', port: pg.port, dbname },
          user,
          password,
          {
            timeoutMs: 5000,
          },
        );
        return true;
      } catch {
        return false;
      }
    },
    async approveAndRun(args: Record<string, unknown>) {
      const plan = await call('rotate_credential', args);
      expect(plan.isError, JSON.stringify(plan.content)).toBeFalsy();
      const sc = plan.structuredContent!;
      expect(sc.status).toBe('approval_required');
      const id = sc.approval_id as string;
      await h.rt.approvals.approve(id, 'bob', { reason: 'scheduled rotation', channel: 'cli' });
      await h.rt.approvals.approve(id, 'carol', { reason: 'scheduled rotation', channel: 'cli' });
      const token = await issuedToken(h.rt.approvals, id);
      const result = await call('rotate_credential', { ...args, approval_token: token });
      return { plan, result };
    },
  });
}
