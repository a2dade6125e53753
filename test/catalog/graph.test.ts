import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../src/catalog/build-catalog.js';
import { UnknownServiceError } from '../../src/catalog/graph.js';
import { parseCatalogText } from '../../src/catalog/parse-catalog.js';
import { component } from './fixtures.js';

function resource(name: string, type: string, owner: string, system?: string): string {
  return `apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: { name: ${name} }\nspec: ${JSON.stringify({ type, owner, system })}\n`;
}

function catalogOf(docs: string[]) {
  const parsed = parseCatalogText(docs.join('---\n'), 'graph.yaml');
  expect(parsed.errors).toEqual([]);
  return buildCatalog(parsed.entities);
}

const shop = () =>
  catalogOf([
    component(
      'web',
      { owner: 'storefront', system: 'storefront', dependsOn: ['component:gateway'] },
      { 'day2.dev/tier': 'critical' },
    ),
    component('gateway', {
      owner: 'platform',
      system: 'platform',
      dependsOn: ['component:cart', 'component:checkout'],
    }),
    component(
      'checkout',
      {
        owner: 'checkout-team',
        system: 'checkout',
        dependsOn: ['component:cart', 'component:payments', 'resource:orders-db'],
      },
      { 'day2.dev/tier': 'critical' },
    ),
    component('cart', { owner: 'checkout-team', system: 'checkout' }),
    component('payments', {
      owner: 'payments-team',
      system: 'payments',
      dependsOn: ['component:fraud', 'resource:payments-db'],
    }),
    component('fraud', { owner: 'payments-team', system: 'payments', dependsOn: ['resource:payments-db'] }),
    component('reporting', { owner: 'data.team', dependsOn: ['resource:orders-db', 'resource:payments-db'] }),
    resource('orders-db', 'database', 'checkout-team', 'checkout'),
    resource('payments-db', 'database', 'payments-team', 'payments'),
    'apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: { name: payments, title: \'Payments "core" <v2>\' }\nspec: { owner: payments-team }\n',
  ]);

describe('dependency impact', () => {
  it('walks downstream (who breaks) with distances and shortest paths', () => {
    const r = shop().dependencyImpact('payments-db', { direction: 'downstream' });
    expect(r.service).toBe('resource:payments-db');
    expect(r.nodes.map((n) => [n.id, n.distance, n.path.join('>')])).toEqual([
      ['fraud', 1, 'resource:payments-db>fraud'],
      ['payments', 1, 'resource:payments-db>payments'],
      ['reporting', 1, 'resource:payments-db>reporting'],
      ['checkout', 2, 'resource:payments-db>payments>checkout'],
      ['gateway', 3, 'resource:payments-db>payments>checkout>gateway'],
      ['web', 4, 'resource:payments-db>payments>checkout>gateway>web'],
    ]);
    expect(r.truncated).toBe(false);
    expect(r.nodes.find((n) => n.id === 'web')).toMatchObject({
      kind: 'component',
      owner: 'storefront',
      tier: 'critical',
      system: 'storefront',
      direction: 'downstream',
    });
  });

  it('stops at the requested depth and says so', () => {
    const r = shop().dependencyImpact('payments-db', { direction: 'downstream', depth: 2 });
    expect(r.nodes.map((n) => n.id)).toEqual(['fraud', 'payments', 'reporting', 'checkout']);
    expect(r.truncated).toBe(true);
    expect(r.depth).toBe(2);
  });

  it('walks upstream (what it needs) and both ways', () => {
    const up = shop().dependencyImpact('checkout', { direction: 'upstream', depth: 1 });
    expect(up.nodes.map((n) => n.id)).toEqual(['cart', 'payments', 'resource:orders-db']);
    expect(up.nodes.find((n) => n.id === 'resource:orders-db')!.kind).toBe('resource');
    const both = shop().dependencyImpact('checkout', { depth: 1 });
    expect(both.nodes.map((n) => `${n.direction}:${n.id}`)).toEqual([
      'upstream:cart',
      'upstream:payments',
      'upstream:resource:orders-db',
      'downstream:gateway',
    ]);
  });

  it('names unknown services with suggestions', () => {
    expect(() => shop().dependencyImpact('chekout')).toThrow(UnknownServiceError);
    expect(() => shop().dependencyImpact('checkot')).toThrow(/did you mean checkout/);
  });
});

describe('restart order', () => {
  it('puts dependencies before dependents, even through services not asked for', () => {
    const r = shop().restartOrder(['web', 'fraud', 'checkout', 'cart', 'nope']);
    expect(r.order).toEqual(['cart', 'fraud', 'checkout', 'web']);
    expect(r.cycles).toEqual([]);
    expect(r.unknown).toEqual(['nope']);
  });

  it('reports a cycle instead of looping', () => {
    const c = catalogOf([
      component('a', { owner: 't', dependsOn: ['component:b'] }),
      component('b', { owner: 't', dependsOn: ['component:c'] }),
      component('c', { owner: 't', dependsOn: ['component:a', 'component:d'] }),
      component('d', { owner: 't' }),
      component('e', { owner: 't', dependsOn: ['component:a'] }),
      component('self', { owner: 't', dependsOn: ['component:self'] }),
    ]);
    const r = c.restartOrder(['e', 'a', 'b', 'c', 'd', 'self']);
    expect(r.order).toEqual(['d', 'a', 'b', 'c', 'e', 'self']);
    expect(r.cycles).toEqual([['a', 'b', 'c'], ['self']]);
    expect(c.dependencyImpact('a', { direction: 'upstream' }).nodes.map((n) => n.id)).toEqual([
      'b',
      'c',
      'd',
    ]);
  });
});

describe('graph export', () => {
  it('gives JSON nodes and edges', () => {
    const g = shop().toGraphJson();
    expect(g.nodes).toHaveLength(9);
    expect(g.nodes.find((n) => n.id === 'checkout')).toEqual({
      id: 'checkout',
      kind: 'component',
      type: 'service',
      owner: 'checkout-team',
      tier: 'critical',
      system: 'checkout',
    });
    expect(g.edges).toContainEqual({ from: 'checkout', to: 'resource:orders-db', type: 'dependsOn' });
    expect(g.edges).toHaveLength(11);
    const sub = shop().toGraphJson({ include: ['checkout', 'cart', 'web'] });
    expect(sub.edges).toEqual([{ from: 'checkout', to: 'cart', type: 'dependsOn' }]);
  });

  it('writes a Mermaid flowchart with safe ids, systems as subgraphs and owners as classes', () => {
    const m = shop().toMermaid();
    const lines = m.trimEnd().split('\n');
    expect(lines[0]).toBe('flowchart LR');
    expect(lines).toContain('  subgraph sys_payments["Payments #quot;core#quot; #lt;v2#gt;"]');
    expect(lines).toContain('  subgraph sys_checkout["checkout"]');
    expect(lines).toContain('    n_resource_orders_db[("orders-db")]');
    expect(lines).toContain('  n_checkout --> n_resource_orders_db');
    expect(lines).toContain('  class n_fraud,n_payments,n_resource_payments_db owner_payments_team');
    expect(lines.some((l) => l.startsWith('  classDef owner_data_team fill:'))).toBe(true);
    // every node id is [A-Za-z0-9_] and subgraphs are balanced
    for (const l of lines.filter((x) => x.includes('-->'))) expect(l).toMatch(/^ {2}n_\w+ --> n_\w+$/);
    expect(lines.filter((l) => l.trim().startsWith('subgraph')).length).toBe(
      lines.filter((l) => l.trim() === 'end').length,
    );
  });

  it('keeps sanitized ids unique', () => {
    const c = catalogOf([component('a-b', { owner: 't' }), component('a_b', { owner: 't' })]);
    const m = c.toMermaid({ groupBy: 'none' });
    expect(m).toContain('n_a_b["a-b"]');
    expect(m).toContain('n_a_b_2["a_b"]');
  });
});

describe('completion', () => {
  it('completes prefixes first, then substrings, then titles, within the limit', () => {
    const c = catalogOf([
      component('payments', { owner: 't' }),
      component('payouts', { owner: 't' }),
      component('fraud-payments', { owner: 't' }),
      component('ledger', { owner: 't' }),
    ]);
    expect(c.completeServiceNames('pay')).toEqual(['payments', 'payouts', 'fraud-payments']);
    expect(c.completeServiceNames('PAY', 1)).toEqual(['payments']);
    expect(c.completeServiceNames('', 2)).toEqual(['fraud-payments', 'ledger']);
    expect(c.completeServiceNames('zzz')).toEqual([]);
  });
});
