import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import type { Backends } from '../../src/providers/backends.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/sandbox/postgres-cluster.js';
import { buildRuntime, type OwnedRuntime } from '../../src/server/build-runtime.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { allAudit, type ParsedAudit } from '../fixtures/audit-records.js';
import { ReplicaProcess, startRoundRobinProxy, type RoundRobinProxy } from '../fixtures/replica-fleet.js';
import { runCli } from '../fixtures/run-cli.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { backendWrites } from '../fixtures/test-tools.js';

const AGENTS = ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5'];
const ACTIONS_PER_AGENT = 6;
/** Each agent's bearer token; test values, never logged by day2. */
const tokenOf = (agent: string) => `${agent}-token-${'0123456789'.repeat(2)}`;
const tokenEnv = (agent: string) => `DAY2_TEST_${agent.toUpperCase().replace('-', '_')}_TOKEN`;
/** How often an agent tries one step again after an error before it reports the action as not run. */
const ATTEMPTS = 40;
const APPROVER = 'oncall-human';

/** What one agent saw of one action, from its first plan to its last answer. */
interface Action {
  agent: string;
  target: string;
  args: { env: string; target: string; value: string };
  approvalId?: string;
  /** The plan's approval_required answer reached the agent. */
  planned: boolean;
  approved: boolean;
  /** The human's approve call itself answered (not only found approved after an error). */
  approvalAcknowledged: boolean;
  /** Some execute call answered `executed`. */
  executed: boolean;
  /** Why the agent gave up, when it did: the last error or refusal it got. */
  notRun?: string;
  /** get_approval waits the agent cancelled, and executes it cancelled mid-way. */
  cancelledWaits: number;
  cancelledExecutes: number;
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

// Issue 19, part 4: three `day2 serve --http` processes on one PostgreSQL store behind a
// round-robin proxy that retries nothing; five agents plan, get approved, wait, cancel and execute
// by approval_id while one replica is SIGKILLed and restarted and PostgreSQL restarts once.
describe('three replicas under faults (SIGKILL of a replica, a PostgreSQL restart)', () => {
  let cluster: PostgresCluster;
  let t: TestEnv;
  let proxy: RoundRobinProxy;
  const replicas: ReplicaProcess[] = [];
  let human: OwnedRuntime;
  let store: Store;
  const actions: Action[] = [];
  const faults: string[] = [];

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    proxy = await startRoundRobinProxy([]);
    const storeUrl = `${cluster.adminUrl}&schema=day2_replicas`;
    t = makeTestEnv(
      {
        http: {
          tokens: AGENTS.map((a) => ({ principal: a, token_env: tokenEnv(a) })),
          allowed_hosts: [`127.0.0.1:${proxy.port}`],
        },
      },
      storeUrl,
    );
    const env = { ...t.env, ...Object.fromEntries(AGENTS.map((a) => [tokenEnv(a), tokenOf(a)])) };
    // One after the other: the first creates the audit signing key the others then read.
    for (const name of ['A', 'B', 'C']) replicas.push(await ReplicaProcess.start(name, t.configPath, env));
    proxy.route(replicas.map((r) => r.port));
    human = await buildRuntime({
      loaded: loadConfig({ path: t.configPath, env: t.env }),
      log: silentLogger,
      redactor: new Redactor(),
      env: t.env,
      backends: {} as Backends,
    });
  }, 240_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await proxy?.close();
    await human?.close();
    await store?.close();
    await cluster?.stop();
    t?.cleanup();
  }, 60_000);

  /** One agent: its own SDK client (its own principal) through the proxy, working its actions in turn. */
  async function agent(name: string, progress: () => void, gate: () => Promise<void>): Promise<void> {
    const client = new Client({ name: `replica-fault-${name}`, version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
      requestInit: { headers: { Authorization: `Bearer ${tokenOf(name)}` } },
    });
    await retry(() => client.connect(transport), `${name} to connect`);
    try {
      for (let i = 0; i < ACTIONS_PER_AGENT; i++) {
        const n = AGENTS.indexOf(name) * ACTIONS_PER_AGENT + i;
        const a: Action = {
          agent: name,
          target: `svc-${name}-${i}`,
          args: { env: 'staging', target: `svc-${name}-${i}`, value: `v${i}` },
          planned: false,
          approved: false,
          approvalAcknowledged: false,
          executed: false,
          cancelledWaits: 0,
          cancelledExecutes: 0,
        };
        await gate();
        actions.push(a);
        await work(client, a, n);
        progress();
      }
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  /** Calls a tool; a transport error (a 502, a cut stream) comes back as an error result. */
  async function call(
    client: Client,
    name: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<CallToolResult> {
    try {
      return (await client.callTool({ name, arguments: args }, undefined, {
        signal,
        timeout: 90_000,
      })) as CallToolResult;
    } catch (err) {
      return { isError: true, content: [{ type: 'text', text: `transport: ${(err as Error).message}` }] };
    }
  }

  async function work(client: Client, a: Action, n: number): Promise<void> {
    // Plan: asking again with the same arguments returns the same pending request.
    for (let k = 0; k < ATTEMPTS && !a.approvalId; k++) {
      const r = await call(client, 'test_write', a.args);
      const sc = r.structuredContent as { status?: string; approval_id?: string } | undefined;
      if (!r.isError && sc?.status === 'approval_required') {
        a.approvalId = sc.approval_id;
        a.planned = true;
      } else {
        a.notRun = textOf(r);
        await sleep(250);
      }
    }
    if (!a.approvalId) return;

    // Some agents start waiting for the approval and cancel the wait (notifications/cancelled,
    // which the proxy sends to whichever replica is next).
    if (n % 4 === 1) {
      const stop = new AbortController();
      const waiting = call(client, 'get_approval', { approval_id: a.approvalId, wait_s: 60 }, stop.signal);
      await sleep(200 + (n % 3) * 100);
      stop.abort('the agent stopped waiting');
      const r = await waiting;
      // Cancelled, or a 502 from a replica that is down: either way no answer, and nothing ran.
      expect(r.isError, textOf(r)).toBe(true);
      a.cancelledWaits++;
    }

    // The human approves through the approvals API on the same store (as `day2 approve` does),
    // after reading the request for a moment.
    await sleep(100 + (n % 4) * 50);
    for (let k = 0; k < ATTEMPTS && !a.approved; k++) {
      try {
        const r = await human.approvals.approve(a.approvalId, APPROVER, { channel: 'cli' });
        a.approved = a.approvalAcknowledged = r.status === 'approved';
      } catch {
        // The store may be restarting, or the answer was lost after the approval was recorded.
        a.approved = (await human.approvals.get(a.approvalId).catch(() => undefined))?.status === 'approved';
        if (!a.approved) await sleep(250);
      }
    }
    if (!a.approved) {
      a.notRun = 'not approved';
      return;
    }

    // Execute by approval_id; some executes are cancelled right after they were sent, and the
    // agent then asks again (which a consumed approval refuses).
    for (let k = 0; k < ATTEMPTS; k++) {
      const cancelThis = n % 5 === 2 && k === 0;
      const stop = new AbortController();
      const answer = call(client, 'test_write', { ...a.args, approval_id: a.approvalId }, stop.signal);
      if (cancelThis) {
        await sleep(n % 3);
        stop.abort('the agent cancelled');
        a.cancelledExecutes++;
      }
      const r = await answer;
      const sc = r.structuredContent as { status?: string } | undefined;
      if (!r.isError && sc?.status === 'executed') {
        a.executed = true;
        a.notRun = undefined;
        return;
      }
      a.notRun = textOf(r);
      // A refusal is final (used, expired, another's); an outage or a cut answer is tried again.
      if (r.isError && !/^transport:|store|database|unavailable|timed? ?out/i.test(a.notRun)) return;
      await sleep(250);
    }
  }

  async function retry<T>(fn: () => Promise<T>, what: string): Promise<T> {
    let last: unknown;
    for (let k = 0; k < ATTEMPTS; k++) {
      try {
        return await fn();
      } catch (err) {
        last = err;
        await sleep(250);
      }
    }
    throw new Error(`${what}: ${String(last)}`);
  }

  it('runs every approved action at most once, audits every acknowledged call, and the chain verifies', async () => {
    let done = 0;
    const total = AGENTS.length * ACTIONS_PER_AGENT;
    const reach = async (share: number) => {
      while (done < Math.floor(total * share)) await sleep(20);
    };
    // The faults come at fixed points of the work; later actions wait for a fault's repair, so
    // that some work runs during each fault and some after it whatever the machine's speed.
    let bBack: Promise<void> | undefined;
    let pgBack: Promise<void> | undefined;
    const chaos = (async () => {
      await reach(0.2);
      const b = replicas[1]!;
      bBack = (async () => {
        await b.kill();
        faults.push(`SIGKILL ${b.name} after ${done} actions`);
        await sleep(1000);
        await b.start();
        faults.push(`${b.name} back after ${done} actions`);
      })();
      await bBack;
      await reach(0.55);
      pgBack = (async () => {
        faults.push(`PostgreSQL restarting after ${done} actions`);
        await cluster.restart();
        faults.push(`PostgreSQL back after ${done} actions`);
      })();
      await pgBack;
    })();
    const gate = async () => {
      if (done >= total * 0.4) while (!bBack) await sleep(20);
      await bBack;
      if (done >= total * 0.8) while (!pgBack) await sleep(20);
      await pgBack;
    };
    await Promise.all(AGENTS.map((a) => agent(a, () => void done++, gate)));
    await chaos;
    expect(faults).toHaveLength(4);

    store = await openStore(`${cluster.adminUrl}&schema=day2_replicas`);
    const audit = await allAudit(store);
    const writes = backendWrites(t.backendFile).map((l) => JSON.parse(l) as { target: string });
    const runs = (target: string) => writes.filter((w) => w.target === target).length;
    const about = (id: string | undefined, event: string) =>
      audit.filter((r) => r.event === event && r.approval?.id === id);
    const report = actions.map((a) => ({
      target: a.target,
      planned: a.planned,
      approved: a.approved,
      approvalAcknowledged: a.approvalAcknowledged,
      executed: a.executed,
      runs: runs(a.target),
      notRun: a.notRun?.slice(0, 160),
    }));
    const health = await Promise.all(
      replicas.map(async (r) => ({
        replica: r.name,
        healthy: await r.healthy(),
        log: r.stderr.slice(-1500),
      })),
    );
    const context = JSON.stringify(
      { faults, badGateways: proxy.badGateways.length, health, report },
      null,
      1,
    );

    expect(actions, context).toHaveLength(total);
    // Nothing ran that was not an action of this test, and nothing ran twice.
    expect(new Set(writes.map((w) => w.target)).size, context).toBe(writes.length);
    for (const a of actions) {
      expect(runs(a.target), `${a.target}\n${context}`).toBeLessThanOrEqual(1);
      if (a.executed) expect(runs(a.target), `${a.target} acknowledged\n${context}`).toBe(1);
      // Not acknowledged: either it ran once (its answer was lost, and the retry was refused as
      // used) or it did not run and the agent was told so.
      else expect(a.notRun, `${a.target}\n${context}`).toBeTruthy();
      if (!a.approved) expect(runs(a.target), `${a.target}\n${context}`).toBe(0);
    }

    // No approval was redeemed twice: one consumption and one execute record at most, each.
    for (const a of actions.filter((x) => x.approvalId)) {
      expect(about(a.approvalId, 'approval.consumed').length, a.target).toBeLessThanOrEqual(1);
      expect(about(a.approvalId, 'tool.execute').length, a.target).toBeLessThanOrEqual(1);
      // What ran had its durable execute record first; what did not run, none.
      expect(about(a.approvalId, 'tool.execute').length, `${a.target}\n${context}`).toBe(runs(a.target));
    }

    // Every acknowledged call is in the audit: the plan's approval_required, the approval, and
    // for an executed write its execute, consumption and successful outcome of the same call.
    for (const a of actions) {
      if (a.planned)
        expect(about(a.approvalId, 'tool.approval_required').length, a.target).toBeGreaterThan(0);
      // An approve call that failed may still have recorded the decision (see the report).
      if (a.approvalAcknowledged)
        expect(about(a.approvalId, 'approval.approved').length, a.target).toBeGreaterThan(0);
      if (!a.executed) continue;
      const [execute] = about(a.approvalId, 'tool.execute');
      expect(execute, a.target).toMatchObject({ principal: a.agent, tool: 'test_write', env: 'staging' });
      expect(about(a.approvalId, 'approval.consumed'), a.target).toHaveLength(1);
      const outcome = audit.find((r: ParsedAudit) => r.event === 'tool.outcome' && r.call === execute!.call);
      expect(outcome?.outcome, a.target).toMatchObject({ ok: true });
    }

    // The faults happened where the agents could see them, and most of the work still got done.
    expect(writes.length, context).toBeGreaterThanOrEqual(total * 0.8);
    expect(proxy.badGateways.length, context).toBeGreaterThan(0);
    expect(actions.reduce((s, a) => s + a.cancelledWaits + a.cancelledExecutes, 0)).toBeGreaterThan(0);

    const verified = await runCli(['audit', 'verify', '--config', t.configPath], t.env);
    expect(verified.stdout + verified.stderr, context).toMatch(/audit log intact/);
    expect(verified.code).toBe(0);
  }, 600_000);
});
