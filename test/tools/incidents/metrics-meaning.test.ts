import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIncidentHarness, type IncidentHarness } from './incident-fixture.js';

// Issue 16 item 6, through a real MCP client over the sandbox: open_incident takes detected_at,
// MTTR runs from it, and the rollback that remediated the incident is listed as its remedy, not
// counted as a change that failed.

interface Counted {
  at: string;
  tool: string;
  env?: string;
  service?: string;
  incident?: string;
}
interface Metrics {
  mttr: { value: number | null; sample: number };
  change_failure_rate: {
    value: number | null;
    sample: number;
    failed: number;
    definition: string;
    changes: Counted[];
    remediations: Counted[];
  };
}

describe('metrics that mean what they say', () => {
  let h: IncidentHarness;
  beforeAll(async () => {
    h = await startIncidentHarness();
  }, 60_000);
  afterAll(async () => h?.close());

  async function metrics(): Promise<Metrics> {
    await h.rt.auditLog.flush();
    const res = await h.client.readResource({ uri: 'day2://metrics' });
    return JSON.parse((res.contents[0] as { text: string }).text) as Metrics;
  }

  it('a rollback before the incident was opened is its remedy; MTTR runs from the detected_at given', async () => {
    const noticed = new Date(h.clock.now().getTime() - 12 * 60_000).toISOString();
    // The operator rolls back first...
    const args = { service: 'checkout', env: 'prod', revision: 13 };
    const asked = await h.call('rollback_deployment', args);
    const id = (asked.structuredContent as { approval_id: string }).approval_id;
    await h.rt.approvals.approve(id, 'alice', { channel: 'cli' });
    const done = await h.call('rollback_deployment', { ...args, approval_id: id });
    expect(done.structuredContent).toMatchObject({ status: 'executed' });
    h.clock.advance(3 * 60_000);

    // ...then records the incident, saying when it was noticed.
    const future = await h.call('open_incident', {
      service: 'checkout',
      env: 'prod',
      title: 'checkout errors after 2.8.0',
      detected_at: new Date(h.clock.now().getTime() + 60_000).toISOString(),
    });
    expect(future.isError).toBe(true);
    expect((future.content as { text: string }[])[0]!.text).toMatch(/^detected_at: .* is in the future/);
    const opened = await h.call('open_incident', {
      service: 'checkout',
      env: 'prod',
      title: 'checkout errors after 2.8.0',
      detected_at: noticed,
    });
    expect(opened.isError, JSON.stringify(opened.content)).toBeFalsy();
    const incident = (opened.structuredContent as { incident: { id: string; detected_at: string } }).incident;
    expect(incident.detected_at).toBe(noticed);
    expect((opened.content as { text: string }[])[0]!.text).toContain(`Detected at ${noticed}`);

    h.clock.advance(5 * 60_000);
    const resolved = await h.call('resolve_incident', {
      incident_id: incident.id,
      resolution: 'rolled back to 13',
    });
    expect(resolved.isError, JSON.stringify(resolved.content)).toBeFalsy();

    const m = await metrics();
    // 12 minutes before the opening's clock, 3 + 5 minutes to resolution: 20 minutes from detection.
    expect(m.mttr).toMatchObject({ value: 20, sample: 1 });
    const cfr = m.change_failure_rate;
    expect(cfr.remediations).toEqual([
      expect.objectContaining({
        tool: 'rollback_deployment',
        service: 'checkout',
        env: 'prod',
        incident: incident.id,
      }),
    ]);
    expect(cfr.changes.some((c) => c.tool === 'rollback_deployment')).toBe(false);
    expect(cfr.failed).toBe(0);
    expect(cfr.sample).toBe(cfr.changes.length);
    expect(cfr.definition).toMatch(/remedy/);
  }, 60_000);

  it('a change followed by an incident on its service is counted as failed and names the incident', async () => {
    const asked = await h.call('restart_deployment', { service: 'cart', env: 'prod' });
    const id = (asked.structuredContent as { approval_id?: string }).approval_id;
    expect(id, JSON.stringify(asked.content)).toBeTruthy();
    await h.rt.approvals.approve(id!, 'alice', { channel: 'cli' });
    const done = await h.call('restart_deployment', { service: 'cart', env: 'prod', approval_id: id });
    expect(done.structuredContent, JSON.stringify(done.content)).toMatchObject({ status: 'executed' });
    h.clock.advance(10 * 60_000);
    const opened = await h.call('open_incident', {
      service: 'cart',
      env: 'prod',
      title: 'cart down after restart',
    });
    const incident = (opened.structuredContent as { incident: { id: string } }).incident;

    const cfr = (await metrics()).change_failure_rate;
    expect(cfr.changes).toContainEqual(
      expect.objectContaining({ tool: 'restart_deployment', service: 'cart', incident: incident.id }),
    );
    expect(cfr.failed).toBe(1);
    expect(cfr.value).toBe(Math.round((1 / cfr.sample) * 100) / 100);
  }, 60_000);
});
