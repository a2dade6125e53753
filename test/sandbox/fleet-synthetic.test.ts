import { describe, expect, it } from 'vitest';
import { syntheticFleet } from '../../src/sandbox/fleet/synthetic.js';

describe('syntheticFleet', () => {
  it('builds a valid 5,000-service fleet whose catalog links every workload', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    const { fleet, catalog } = syntheticFleet({ services: 5000, podsPerService: 2, now });
    const prod = fleet.environments.prod!;
    expect(prod.deployments).toHaveLength(5000);
    expect(prod.deployments.reduce((n, d) => n + d.pods.length, 0)).toBe(10_000);
    expect(catalog.size).toBe(5000);
    expect(catalog.conflicts).toEqual([]);
    expect(catalog.warnings).toEqual([]);
    expect(catalog.workloadFor('svc-04321', 'prod')).toMatchObject({ namespace: 'ns-21', name: 'svc-04321' });
    expect(prod.alerts.every((a) => a.starts_at.getTime() === now.getTime() - 5 * 60_000)).toBe(true);
    const order = catalog.restartOrder(catalog.services().map((s) => s.id));
    expect(order.order).toHaveLength(5000);
    expect(order.cycles).toEqual([]);
    expect(catalog.resource('db-0')!.dependents.length).toBe(50);
  });

  it('is deterministic', () => {
    const a = syntheticFleet({ services: 50, podsPerService: 1, envs: ['prod', 'staging'] });
    const b = syntheticFleet({ services: 50, podsPerService: 1, envs: ['prod', 'staging'] });
    expect(a.catalog.toGraphJson()).toEqual(b.catalog.toGraphJson());
    expect(Object.keys(a.fleet.environments)).toEqual(['prod', 'staging']);
    expect(a.fleet.environments.staging!.tier).toBe('staging');
  });
});
