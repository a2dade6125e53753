import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogService } from '../../src/catalog/model.js';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';

/**
 * The resolution contract of every tool that takes a `service`: each name the catalog knows a
 * service by — its id in another case, its entity ref, its Datadog service, its Kubernetes
 * workload and app.kubernetes.io/name — gives the same answer as the id itself; a name it does not
 * know is an error that names the field and suggests the service meant. Run on the demo fleet and
 * on the mini fleet: names come from each fleet's catalog, none is written here.
 */

const FLEETS = {
  demo: undefined,
  mini: fileURLToPath(new URL('../fixtures/fleets/mini.yaml', import.meta.url)),
};

type Json = Record<string, unknown>;

/** What each tool needs besides `service` and `env`; a tool that takes a service and is missing here fails the test. */
const OTHER_ARGS: Record<string, (ctx: { fromEnv?: string }) => Json> = {
  get_service: () => ({}),
  dependency_impact: () => ({}),
  list_alerts: () => ({ include_silenced: true }),
  list_deployments: () => ({}),
  triage_service: () => ({}),
  read_logs: () => ({}),
  rollback_deployment: () => ({}),
  restart_deployment: () => ({}),
  open_incident: () => ({ title: 'resolution contract' }),
  mute_service: () => ({ duration: '1h', reason: 'resolution contract' }),
  list_credentials: () => ({ limit: 100 }),
  rotate_credential: () => ({ reason: 'resolution contract' }),
  capacity_report: () => ({}),
  plan_capacity: () => ({ load_factor: 3 }),
  patch_report: () => ({}),
  detect_drift: () => ({}),
  scale_deployment: () => ({ replicas: 3 }),
  set_autoscaling: () => ({ min_replicas: 2, max_replicas: 4, target_cpu_percent: 70 }),
  update_image: () => ({ tag: '9.9.9' }),
  set_resources: () => ({ requests: { cpu: '300m' } }),
  promote_version: ({ fromEnv }) => ({ from_env: fromEnv }),
  remediate_drift: () => ({}),
  db_health: () => ({}),
  slow_queries: () => ({}),
  explain_query: () => ({ sql: 'select 1' }),
  blocking_queries: () => ({}),
  run_migration: () => ({}),
  reindex: () => ({ index: 'resolution_contract_idx' }),
  describe_table: () => ({ table: 'resolution_contract_table' }),
  create_index: () => ({ table: 'resolution_contract_table', columns: ['id'] }),
  backup_database: () => ({}),
  restore_database: () => ({ file: 'resolution-contract.dump' }),
  cancel_query: () => ({ pid: 999_999 }),
  scale_idle_to_zero: () => ({}),
  search_audit: () => ({ tool: 'get_service', limit: 100 }),
  list_changes: () => ({}),
};

/** Result fields that differ from call to call by nature: ids and times of new approval requests. */
const VOLATILE = new Set(['approval_id', 'action_digest', 'expires_at', 'approve_with', 'approve_url']);

function comparable(tool: string, res: Json) {
  const text = (res.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');
  if (res.isError) return { error: text };
  const sc = JSON.parse(
    JSON.stringify(res.structuredContent ?? {}, (k, v: unknown) => (VOLATILE.has(k) ? undefined : v)),
  ) as Json;
  // The server's live figures (connections, transaction id age) move with anything else on it.
  if (tool === 'db_health') delete sc.metrics;
  // Each search is itself audited: compare what was there before it.
  if (tool === 'search_audit') {
    sc.actions = (sc.actions as { tool?: string }[]).filter((e) => e.tool !== 'search_audit');
    delete sc.as_of_seq;
  }
  return { ok: sc };
}

for (const [fleetName, fleet] of Object.entries(FLEETS)) {
  describe(`service resolution on the ${fleetName} fleet`, () => {
    let h: SandboxHarness;
    let client: Client;
    let withService: string[];

    beforeAll(async () => {
      h = await startSandboxHarness({ fleet });
      client = await h.connect('sre-alice');
      withService = (await client.listTools()).tools
        .filter((t) => Object.keys(t.inputSchema.properties ?? {}).includes('service'))
        .map((t) => t.name);
    }, 60_000);
    afterAll(async () => h?.close());

    const envs = () => Object.keys(h.rt.deps.config.environments);
    const runsIn = (s: CatalogService, env: string) => h.rt.deps.catalog.workloadFor(s.id, env) !== undefined;

    /** The service a tool is tried with, and the env: one that has what the tool needs. */
    function subject(tool: string): { svc: CatalogService; env: string; fromEnv?: string } {
      const { catalog, config } = h.rt.deps;
      const fits = (s: CatalogService, env: string): boolean => {
        if (!runsIn(s, env)) return false;
        const dbs = config.environments[env]?.databases ?? {};
        if (h.rt.tools.find((t) => t.name === tool)?.toolset === 'database')
          return s.databases.some((d) => d in dbs);
        if (tool === 'rotate_credential')
          return s.dbRole !== undefined && s.secrets.some((x) => x.store === 'aws');
        if (tool === 'promote_version') return envs().some((e) => e !== env && runsIn(s, e));
        return true;
      };
      // Services known by more names first: they exercise more aliases.
      const ranked = [...catalog.services()].sort(
        (a, b) => Number(b.datadogService !== undefined) - Number(a.datadogService !== undefined),
      );
      for (const svc of ranked)
        for (const env of envs())
          if (fits(svc, env)) return { svc, env, fromEnv: envs().find((e) => e !== env && runsIn(svc, e)) };
      throw new Error(`no service of the ${fleetName} fleet fits ${tool}`);
    }

    /** Every other name the fleet knows the service by in env. */
    function aliases(svc: CatalogService, env: string): string[] {
      const w = h.rt.deps.catalog.workloadFor(svc.id, env)!;
      const labels = h.sandbox.fleet.fleet.environments[env]?.deployments.find(
        (d) => d.namespace === w.namespace && d.name === w.name,
      )?.labels;
      return [
        ...new Set([
          svc.id.toUpperCase(),
          svc.ref.replace(/^component:/, 'Component:'),
          ...(svc.datadogService ? [svc.datadogService] : []),
          `${w.namespace}/${w.name}`,
          ...(labels?.['app.kubernetes.io/name'] ? [labels['app.kubernetes.io/name']] : []),
        ]),
      ].filter((a) => a !== svc.id);
    }

    it('lists every tool that takes a service in this contract', () => {
      expect(withService.length).toBeGreaterThan(10);
      expect(withService.filter((t) => !(t in OTHER_ARGS))).toEqual([]);
    });

    it('answers the same for every name of the service as for its id', { timeout: 120_000 }, async () => {
      const mismatches: string[] = [];
      let aliased = 0;
      // search_audit last, so that it finds the calls made before it.
      for (const tool of [...withService.filter((t) => t !== 'search_audit'), 'search_audit']) {
        const { svc, env, fromEnv } = subject(tool);
        const args = { env, ...OTHER_ARGS[tool]!({ fromEnv }) };
        const call = (service: string) => client.callTool({ name: tool, arguments: { ...args, service } });
        // The second call with the id is the baseline: a first one may have changed day2's own
        // records (open_incident opens one, and the next finds it open).
        await call(svc.id);
        const baseline = comparable(tool, await call(svc.id));
        for (const alias of aliases(svc, env)) {
          const got = comparable(tool, await call(alias));
          aliased++;
          if (JSON.stringify(got) !== JSON.stringify(baseline))
            mismatches.push(
              `${tool} {service: ${alias}} ≠ {service: ${svc.id}}: ${JSON.stringify(got).slice(0, 300)}`,
            );
        }
      }
      expect(aliased).toBeGreaterThan(withService.length * 2);
      expect(mismatches).toEqual([]);
    });

    it('knows every workload by its namespace/name and app.kubernetes.io/name in its env', async () => {
      const { catalog } = h.rt.deps;
      const misses: string[] = [];
      for (const [env, e] of Object.entries(h.sandbox.fleet.fleet.environments)) {
        for (const d of e.deployments) {
          const owner = catalog
            .services()
            .find(
              (s) =>
                catalog.workloadFor(s.id, env)?.name === d.name &&
                catalog.workloadFor(s.id, env)?.namespace === d.namespace,
            );
          if (!owner) continue;
          for (const name of new Set([
            `${d.namespace}/${d.name}`,
            d.labels['app.kubernetes.io/name'] ?? d.name,
          ])) {
            const res = await client.callTool({ name: 'get_service', arguments: { service: name, env } });
            const got = (res.structuredContent as { service?: string } | undefined)?.service;
            if (got !== owner.id) misses.push(`${env} ${name}: ${got ?? 'error'} (expected ${owner.id})`);
          }
        }
      }
      expect(misses).toEqual([]);
    });

    it('refuses a name it does not know, naming the field and the closest service', async () => {
      const failures: string[] = [];
      for (const tool of withService) {
        const { svc, env, fromEnv } = subject(tool);
        // One letter swapped with its neighbour, mid-word: the typo a person makes.
        const i = Math.floor(svc.id.length / 2);
        const typo = svc.id.slice(0, i - 1) + svc.id[i] + svc.id[i - 1] + svc.id.slice(i + 1);
        const res = await client.callTool({
          name: tool,
          arguments: { env, ...OTHER_ARGS[tool]!({ fromEnv }), service: typo },
        });
        const text = (res.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');
        if (!res.isError || !/^service: /m.test(text) || !text.includes(svc.id))
          failures.push(`${tool} {service: ${typo}}: ${res.isError ? 'error' : 'ok'}: ${text.slice(0, 200)}`);
      }
      expect(failures).toEqual([]);
    });
  });
}
