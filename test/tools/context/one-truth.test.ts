import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxHarness, type SandboxHarness } from '../../fixtures/sandbox-harness.js';

/**
 * One truth across tools (issue 15): an alert, a resource or a name is the same thing in every
 * tool that shows it. The first part runs on the demo fleet and on the mini fleet and takes its
 * names from each fleet's catalog; the second pins the cases the issue reported on the demo fleet.
 */

type Json = Record<string, unknown>;
interface Alert {
  id: string;
  env: string;
  service: string | null;
  backend_service?: string;
  silenced_by: string[];
}
interface NodeState {
  id: string;
  kind: string;
  owner?: string;
  tier?: string;
  alert_status: string;
  alerts: number;
}

const FLEETS = {
  demo: undefined,
  mini: fileURLToPath(new URL('../../fixtures/fleets/mini.yaml', import.meta.url)),
};

function connectTo(fleet: string | undefined) {
  const state = {} as { h: SandboxHarness; client: Client };
  beforeAll(async () => {
    state.h = await startSandboxHarness({ fleet });
    state.client = await state.h.connect('sre-alice');
  }, 60_000);
  afterAll(async () => state.h?.close());
  const call = async (name: string, args: Json) => {
    const res = await state.client.callTool({ name, arguments: args });
    const text = (res.content as { text?: string }[]).map((c) => c.text ?? '').join('\n');
    return { sc: (res.structuredContent ?? {}) as Json, text, isError: Boolean(res.isError) };
  };
  const ok = async (name: string, args: Json) => {
    const r = await call(name, args);
    expect(r.isError, `${name} ${JSON.stringify(args)}: ${r.text}`).toBe(false);
    return r.sc;
  };
  return { state, call, ok };
}

for (const [fleetName, fleet] of Object.entries(FLEETS)) {
  describe(`one truth on the ${fleetName} fleet`, () => {
    const { state, call, ok } = connectTo(fleet);

    it('an alert raised under another name of a service is that service’s alert in every tool', async () => {
      const all = (await ok('list_alerts', { include_silenced: true, limit: 100 })).alerts as Alert[];
      const aliased = all.filter((a) => a.backend_service !== undefined && a.service !== null);
      expect(aliased.length, 'the fleet has an alert raised under an alias').toBeGreaterThan(0);
      for (const a of aliased) {
        const svc = state.h.rt.deps.catalog.service(a.service!)!;
        expect(svc, `${a.id} is attributed to a catalog service`).toBeDefined();
        const ids = (list: Alert[]) => list.map((x) => x.id).sort();
        const firing = (list: Alert[]) => list.filter((x) => x.silenced_by.length === 0).length;

        const byId = (
          await ok('list_alerts', { env: a.env, service: svc.id, include_silenced: true, limit: 100 })
        ).alerts as Alert[];
        const byAlias = (
          await ok('list_alerts', {
            env: a.env,
            service: a.backend_service,
            include_silenced: true,
            limit: 100,
          })
        ).alerts as Alert[];
        expect(ids(byId)).toContain(a.id);
        expect(ids(byAlias)).toEqual(ids(byId));

        const got = await ok('get_service', { service: svc.id, env: a.env });
        expect(ids(got.alerts as Alert[])).toEqual(ids(byId));
        const viaAlias = await ok('get_service', { service: a.backend_service, env: a.env });
        expect(viaAlias.service).toBe(svc.id);

        const triage = await ok('triage_service', { service: svc.id, env: a.env, max_bytes: 65_536 });
        const own = (triage.alerts as { id: string; relation: string; silenced: boolean }[]).filter(
          (x) => x.relation === 'self',
        );
        expect(own.map((x) => x.id).sort()).toEqual(ids(byId));

        // A neighbour's impact report shows the service alerting, with the same count.
        const neighbour = svc.dependsOn[0] ?? svc.dependents[0];
        expect(neighbour, `${svc.id} has a neighbour`).toBeDefined();
        const impact = await ok('dependency_impact', { service: neighbour, env: a.env, depth: 1 });
        const node = (impact.nodes as NodeState[]).find((n) => n.id === svc.id);
        expect(node).toMatchObject({ alert_status: firing(byId) ? 'firing' : 'ok', alerts: firing(byId) });
      }
    });

    it('dependency_impact and get_service take any resource by name or ref and list its dependents with owner, tier and alert state', async () => {
      const catalog = state.h.rt.deps.catalog;
      const env = Object.keys(state.h.rt.deps.config.environments)[0]!;
      const resources = catalog.resources().filter((r) => r.dependents.length > 0);
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources.slice(0, 3)) {
        const expected = r.dependents.map((id) => {
          const n = catalog.node(id)!;
          return { id, kind: n.kind, owner: n.owner, tier: n.tier };
        });
        for (const name of [r.name, r.id, r.id.toUpperCase()]) {
          const impact = await ok('dependency_impact', {
            service: name,
            env,
            direction: 'downstream',
            depth: 1,
          });
          expect(impact.service).toBe(r.id);
          const nodes = impact.nodes as NodeState[];
          for (const e of expected) {
            const n = nodes.find((x) => x.id === e.id);
            expect(n, `${name}: ${e.id}`).toMatchObject(e);
            expect(['firing', 'ok', 'unknown']).toContain(n!.alert_status);
          }
        }
        const got = await ok('get_service', { service: r.name, env });
        expect(got).toMatchObject({ service: r.id, kind: 'resource', type: r.type, owner: r.owner });
        expect(got.dependents_detail).toEqual(
          expect.arrayContaining(expected.map((e) => expect.objectContaining(e))),
        );
      }
    });

    it('a filter naming something other than a service is an error that names its services', async () => {
      const catalog = state.h.rt.deps.catalog;
      const system = catalog.systems().find((s) => !catalog.service(s.id) && s.services.length > 0);
      expect(system).toBeDefined();
      for (const tool of ['list_credentials', 'list_alerts', 'list_deployments']) {
        const r = await call(tool, { service: system!.id });
        expect(r.isError, tool).toBe(true);
        expect(r.text).toMatch(new RegExp(`^service: no service(?: or resource)? "${system!.id}"`));
        expect(
          system!.services.some((s) => r.text.includes(s)),
          r.text,
        ).toBe(true);
      }
    });
  });
}

describe('the cases issue 15 reported, on the demo fleet', () => {
  const { state, call, ok } = connectTo(undefined);

  it('the edge-gateway monitor is api-gateway’s alert in triage_service, get_service and list_alerts', async () => {
    const triage = await ok('triage_service', { service: 'api-gateway', env: 'prod', max_bytes: 65_536 });
    const self = (triage.alerts as { id: string; relation: string }[]).filter((a) => a.relation === 'self');
    expect(self.map((a) => a.id)).toContain('datadog:1003');

    const got = await ok('get_service', { service: 'api-gateway', env: 'prod' });
    expect(got.alerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'datadog:1003',
          service: 'api-gateway',
          backend_service: 'edge-gateway',
        }),
      ]),
    );
    expect((got.alerts as unknown[]).length).toBe(self.length);

    const listed = (await ok('list_alerts', { service: 'api-gateway' })).alerts as Alert[];
    expect(listed.map((a) => a.id)).toContain('datadog:1003');
    expect(listed.every((a) => a.service === 'api-gateway')).toBe(true);
  });

  it('get_service edge-gateway is api-gateway', async () => {
    const { sc, text } = await call('get_service', { service: 'edge-gateway', env: 'prod' });
    expect(sc).toMatchObject({ service: 'api-gateway', kind: 'component', owner: 'platform-team' });
    expect(text).toContain('datadog service edge-gateway');
  });

  it('dependency_impact payments-db and resource:payments-db list fraud-detector and reporting-batch with owner, tier and alert state', async () => {
    for (const service of ['payments-db', 'resource:payments-db']) {
      const { sc, text } = await call('dependency_impact', { service, env: 'prod' });
      expect(sc.service).toBe('resource:payments-db');
      const nodes = sc.nodes as (NodeState & { direction: string })[];
      expect(nodes.find((n) => n.id === 'fraud-detector')).toMatchObject({
        direction: 'downstream',
        owner: 'payments-team',
        tier: 'standard',
        alert_status: 'firing',
      });
      expect(nodes.find((n) => n.id === 'reporting-batch')).toMatchObject({
        direction: 'downstream',
        owner: 'data-team',
        tier: 'standard',
        alert_status: 'ok',
      });
      expect(text).toMatch(/↓1 fraud-detector \(payments-team, standard\) firing/);
    }
  });

  it('list_credentials {service: "payments"} says there is no such service and suggests payment-service', async () => {
    const { isError, text } = await call('list_credentials', { service: 'payments' });
    expect(isError).toBe(true);
    expect(text).toMatch(/^service: no service "payments" in the catalog.*; did you mean payment-service/);
  });

  it('resources and prompts resolve names as the tools do', async () => {
    const res = await state.client.readResource({ uri: 'day2://services/edge-gateway' });
    expect(JSON.parse((res.contents[0] as { text: string }).text)).toMatchObject({ name: 'api-gateway' });
    await expect(state.client.readResource({ uri: 'day2://services/edge-gatewy' })).rejects.toThrow(
      /did you mean api-gateway/,
    );
    const alerts = JSON.parse(
      ((await state.client.readResource({ uri: 'day2://alerts' })).contents[0] as { text: string }).text,
    ) as { alerts: Alert[] };
    expect(alerts.alerts.find((a) => a.id === 'datadog:1003')?.service).toBe('api-gateway');

    const prompt = await state.client.getPrompt({
      name: 'incident-triage',
      arguments: { service: 'edge-gateway', env: 'prod' },
    });
    expect((prompt.messages[0]!.content as { text: string }).text).toContain(
      'triage_service {"service":"api-gateway","env":"prod"}',
    );
    await expect(
      state.client.getPrompt({ name: 'incident-triage', arguments: { service: 'api-gatway', env: 'prod' } }),
    ).rejects.toThrow(/service: no service "api-gatway" in the catalog; did you mean api-gateway/);
  });
});
