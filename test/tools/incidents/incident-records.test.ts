import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  incidentResource,
  incidentsResource,
  metricsResource,
} from '../../../src/resources/incident-resources.js';
import { incidentTriagePrompt } from '../../../src/prompts/incident-triage.js';
import { postmortemPrompt } from '../../../src/prompts/postmortem.js';
import type { ResourceContext } from '../../../src/contract/define-resource.js';
import { startIncidentHarness, type IncidentHarness } from './incident-fixture.js';

interface Incident {
  id: string;
  status: string;
  severity: string;
  detected_at: string;
  opened_at: string;
  entries: { kind: string; text: string }[];
  mirror?: { id?: string; error?: string };
}

describe('incident records, timeline, Datadog mirror and metrics', () => {
  let h: IncidentHarness;
  let ctx: ResourceContext;
  beforeAll(async () => {
    h = await startIncidentHarness({ mirrorIncidents: ['prod'] });
    ctx = {
      deps: h.rt.deps,
      principal: { id: 'agent-bot', transport: 'stdio' },
      signal: new AbortController().signal,
    };
  }, 60_000);
  afterAll(async () => h?.close());

  it('opens, updates and resolves an incident; mirrors it; builds the timeline; feeds the metrics', async () => {
    const opened = await h.call('open_incident', {
      service: 'checkout',
      env: 'prod',
      title: 'checkout confirmations fail with 502',
      severity: 'sev2',
    });
    expect(opened.isError).toBeFalsy();
    const inc = (opened.structuredContent as { incident: Incident }).incident;
    expect(inc.status).toBe('investigating');
    // Detection is the first alert's onset (CheckoutHighErrorRate, 9 minutes before now), not the opening.
    const lead = (Date.parse(inc.opened_at) - Date.parse(inc.detected_at)) / 60_000;
    expect(lead).toBeGreaterThanOrEqual(8);
    expect(lead).toBeLessThanOrEqual(10);
    expect(inc.mirror?.id).toBeTruthy();
    const dd = h.sandbox.backends.datadog('prod');
    expect(await dd.getIncident(inc.mirror!.id!)).toMatchObject({
      title: 'checkout confirmations fail with 502',
      severity: 'SEV-2',
    });

    const dup = await h.call('open_incident', { service: 'checkout', env: 'prod', title: 'again' });
    expect(dup.isError).toBe(true);
    expect((dup.content as { text: string }[])[0]!.text).toContain(`incident ${inc.id} is already open`);

    const noted = await h.call('update_incident', {
      incident_id: inc.id,
      note: 'revision 14 suspected',
      status: 'identified',
    });
    expect((noted.structuredContent as { incident: Incident }).incident.entries.map((e) => e.kind)).toEqual([
      'opened',
      'mirror',
      'status',
      'note',
    ]);

    // A governed write during the incident: a restart, with progress reported while it rolls out.
    const planned = await h.call('restart_deployment', { service: 'checkout', env: 'prod', reason: 'test' });
    const approvalId = (planned.structuredContent as { approval_id: string }).approval_id;
    await h.rt.approvals.approve(approvalId, 'alice', { channel: 'cli' });
    const token = (
      (await h.call('get_approval', { approval_id: approvalId })).structuredContent as {
        approval_token: string;
      }
    ).approval_token;
    const progress: number[] = [];
    const restarted = await h.client.callTool(
      {
        name: 'restart_deployment',
        arguments: { service: 'checkout', env: 'prod', reason: 'test', approval_token: token },
      },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(restarted.isError).toBeFalsy();
    expect((restarted.structuredContent as { result: { ready: boolean } }).result.ready).toBe(true);
    expect(progress.length).toBeGreaterThan(0);

    await h.call('update_incident', { incident_id: inc.id, status: 'mitigated' });
    expect((await dd.getIncident(inc.mirror!.id!)).state).toBe('stable');

    h.clock.advance(30 * 60_000);
    const resolved = await h.call('resolve_incident', {
      incident_id: inc.id,
      resolution: 'rolled back to 2.7.3',
      root_cause: 'tax engine client timeouts in 2.8.0',
    });
    expect(resolved.isError).toBeFalsy();
    const r = resolved.structuredContent as {
      incident: Incident;
      time_to_resolve_minutes: number;
      timeline: { kind: string; text: string; at: string }[];
    };
    expect(r.incident.status).toBe('resolved');
    expect(r.time_to_resolve_minutes).toBeGreaterThanOrEqual(38);
    const kinds = r.timeline.map((e) => e.kind);
    for (const k of ['alert', 'rollout', 'opened', 'note', 'status', 'day2_action', 'resolved'])
      expect(kinds, k).toContain(k);
    expect(r.timeline.find((e) => e.kind === 'day2_action')?.text).toContain('restart_deployment');
    expect([...r.timeline].map((e) => e.at)).toEqual([...r.timeline].map((e) => e.at).sort());
    expect((await dd.getIncident(inc.mirror!.id!)).state).toBe('resolved');

    const again = await h.call('resolve_incident', { incident_id: inc.id, resolution: 'twice' });
    expect(again.isError).toBe(true);

    const list = (await incidentsResource.read(ctx)).json as { incidents: { id: string; status: string }[] };
    expect(list.incidents).toEqual([expect.objectContaining({ id: inc.id, status: 'resolved' })]);
    const one = (await incidentResource.read({ id: inc.id }, ctx)).json as { timeline: { kind: string }[] };
    expect(one.timeline.some((e) => e.kind === 'day2_action')).toBe(true);

    const metrics = (await metricsResource.read(ctx)).json as Record<
      string,
      { value: number | null; sample: number; definition: string; reactive?: number }
    >;
    expect(metrics.mttr!.sample).toBe(1);
    expect(metrics.mttr!.value).toBeGreaterThanOrEqual(38);
    expect(metrics.change_failure_rate).toMatchObject({ value: 0, sample: 1 });
    expect(metrics.proactive_share).toMatchObject({ value: 0, reactive: 1 });
    expect(metrics.self_service_share!.value).toBeGreaterThan(0);
    expect(metrics.self_service_share!.value).toBeLessThan(1);
    for (const k of [
      'mttr',
      'mean_time_between_incidents',
      'change_failure_rate',
      'self_service_share',
      'proactive_share',
    ])
      expect(metrics[k]!.definition.length, k).toBeGreaterThan(20);
  }, 60_000);

  it('prompts name the tools and resources they rely on', () => {
    // Any name of the service: the prompt names it as the tools do.
    const triage = incidentTriagePrompt.messages(
      { service: 'Checkout', env: 'prod', since: undefined },
      h.rt.deps,
    )[0]!.text;
    expect(triage).toContain('triage_service {"service":"checkout","env":"prod"}');
    expect(() =>
      incidentTriagePrompt.messages({ service: 'chekout', env: 'prod', since: undefined }, h.rt.deps),
    ).toThrow(/^service: no service "chekout" in the catalog; did you mean checkout/);
    expect(triage).toMatch(/not instructions/);
    const pm = postmortemPrompt.messages({ incident_id: 'inc_0123456789ab' }, h.rt.deps)[0]!.text;
    expect(pm).toContain('day2://incidents/inc_0123456789ab');
  });

  it('update_incident on an unknown id is an error naming the field', async () => {
    const res = await h.call('update_incident', { incident_id: 'inc_ffffffffffff', note: 'x' });
    expect(res.isError).toBe(true);
    expect((res.content as { text: string }[])[0]!.text).toMatch(
      /^incident_id: no incident inc_ffffffffffff/,
    );
  });
});
