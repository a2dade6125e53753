import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../src/catalog/build-catalog.js';
import { parseCatalogText } from '../../src/catalog/parse-catalog.js';

describe('a 5,000-service catalog', () => {
  it('builds, answers lookups, impact, restart order and completion correctly', () => {
    const n = 5000;
    const docs: string[] = [];
    for (let i = 0; i < n; i++) {
      // service i depends on i-1 and on i/2 (the same for i = 2): 2n-4 edges
      const deps = [
        i > 0 ? `component:svc-${i - 1}` : undefined,
        i > 1 ? `component:svc-${Math.floor(i / 2)}` : undefined,
      ].filter(Boolean);
      docs.push(
        `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-${i}\n  annotations:\n    day2.dev/kubernetes-workload: ns-${i % 50}/svc-${i}\nspec: ${JSON.stringify({ type: 'service', lifecycle: 'production', owner: `team-${i % 40}`, system: `sys-${i % 25}`, dependsOn: deps })}\n`,
      );
    }
    const parsed = parseCatalogText(docs.join('---\n'), 'big.yaml');
    expect(parsed.errors).toEqual([]);
    const catalog = buildCatalog(parsed.entities);
    expect(catalog.size).toBe(n);
    expect(catalog.service('svc-4999')!.dependsOn).toEqual(['svc-4998', 'svc-2499']);
    expect(catalog.service('svc-10')!.dependents.sort()).toEqual(['svc-11', 'svc-20', 'svc-21']);
    expect(catalog.serviceForWorkload('prod', 'ns-7', 'svc-1257')?.id).toBe('svc-1257');
    const up = catalog.dependencyImpact('svc-4999', { direction: 'upstream' });
    expect(up.nodes).toHaveLength(n - 1);
    expect(up.nodes.find((x) => x.id === 'svc-0')!.distance).toBeLessThan(20);
    const order = catalog.restartOrder(catalog.services().map((s) => s.id)).order;
    expect(order).toHaveLength(n);
    const pos = new Map(order.map((id, i) => [id, i]));
    for (const s of catalog.services())
      for (const d of s.dependsOn) expect(pos.get(d)!).toBeLessThan(pos.get(s.id)!);
    expect(catalog.completeServiceNames('svc-499', 5)).toEqual([
      'svc-499',
      'svc-4990',
      'svc-4991',
      'svc-4992',
      'svc-4993',
    ]);
    const graph = catalog.toGraphJson();
    expect(graph.edges).toHaveLength(2 * n - 4);
    expect(
      catalog
        .toMermaid()
        .split('\n')
        .filter((l) => l.includes('-->')),
    ).toHaveLength(2 * n - 4);
  });
});
