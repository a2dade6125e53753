import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../src/catalog/build-catalog.js';
import { closestNames, editDistance } from '../../src/catalog/closest-names.js';
import { mergeKubernetesLabels } from '../../src/catalog/kubernetes-labels.js';
import { parseCatalogText } from '../../src/catalog/parse-catalog.js';
import { ToolError } from '../../src/core/errors.js';
import { component } from './fixtures.js';

const RESOURCE = `apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: payments-db
  annotations:
    day2.dev/database: payments
    day2.dev/tier: critical
spec: {"type": "database", "owner": "payments-team", "system": "payments"}
`;
const SYSTEM = `apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: payments
spec: {"owner": "payments-team"}
`;

function shop() {
  const text = [
    component('checkout', { owner: 'checkout-team' }, { 'day2.dev/kubernetes-workload': 'shop/checkout' }),
    component(
      'api-gateway',
      { owner: 'platform-team' },
      { 'day2.dev/kubernetes-workload': 'platform/api-gateway', 'day2.dev/datadog-service': 'edge-gateway' },
    ),
    component(
      'payment-service',
      { owner: 'payments-team', system: 'payments', dependsOn: ['resource:payments-db'] },
      { 'backstage.io/kubernetes-id': 'pay-svc', 'day2.dev/kubernetes-workload': 'prod=workers/worker' },
    ),
    component(
      'fraud-detector',
      { owner: 'payments-team', system: 'payments', dependsOn: ['resource:payments-db'] },
      { 'day2.dev/kubernetes-workload': 'staging=workers/worker' },
    ),
    RESOURCE,
    SYSTEM,
  ].join('---\n');
  const parsed = parseCatalogText(text, 'catalog-info.yaml');
  expect(parsed.errors).toEqual([]);
  // In staging the gateway runs under another name, labelled with the catalog's.
  return mergeKubernetesLabels(buildCatalog(parsed.entities), [
    { env: 'staging', namespace: 'edge', name: 'gw', labels: { 'app.kubernetes.io/name': 'api-gateway' } },
  ]);
}

describe('the resolver', () => {
  const r = shop().resolver;

  it('takes ids and entity refs in any case', () => {
    for (const name of [
      'checkout',
      'CHECKOUT',
      ' checkout ',
      'component:checkout',
      'Component:default/Checkout',
    ])
      expect(r.findService(name)?.id, name).toBe('checkout');
  });

  it('takes the names a service is also known by: Datadog service, kubernetes-id, workloads, app name', () => {
    expect(r.findService('edge-gateway')?.id).toBe('api-gateway');
    expect(r.findService('EDGE-GATEWAY')?.id).toBe('api-gateway');
    expect(r.findService('pay-svc')?.id).toBe('payment-service');
    expect(r.findService('platform/api-gateway')?.id).toBe('api-gateway');
    expect(r.findService('edge/gw', 'staging')?.id).toBe('api-gateway');
    // An app name used in one environment only still names its service from another.
    expect(r.findService('edge/gw', 'prod')?.id).toBe('api-gateway');
  });

  it('takes resources by name, ref and database key, as entities but never as services', () => {
    for (const name of ['payments-db', 'resource:payments-db', 'RESOURCE:default/payments-db', 'payments'])
      expect(r.findEntity(name)?.id, name).toBe('resource:payments-db');
    expect(r.findService('payments-db')).toBeUndefined();
    expect(r.entity('payments-db')).toMatchObject({
      kind: 'resource',
      type: 'database',
      owner: 'payments-team',
    });
  });

  it('reads a workload name in its environment, and calls it ambiguous without one', () => {
    expect(r.findService('workers/worker', 'prod')?.id).toBe('payment-service');
    expect(r.findService('workers/worker', 'staging')?.id).toBe('fraud-detector');
    expect(r.findService('workers/worker')).toBeUndefined();
    expect(() => r.service('workers/worker', { field: 'target' })).toThrow(
      /^target: "workers\/worker" names fraud-detector and payment-service in different environments/,
    );
  });

  it('attributes backend names to graph nodes, and leaves unknown ones alone', () => {
    expect(r.attribute('edge-gateway', 'prod')).toBe('api-gateway');
    expect(r.attribute('payments-db', 'prod')).toBe('resource:payments-db');
    expect(r.attribute('kube-state-metrics', 'prod')).toBeUndefined();
    expect(r.attribute(null)).toBeUndefined();
    expect(r.workloadService('prod', 'other', 'x', { 'backstage.io/kubernetes-id': 'pay-svc' })?.id).toBe(
      'payment-service',
    );
    expect(r.workloadService('prod', 'other', 'x', { 'app.kubernetes.io/name': 'edge-gateway' })?.id).toBe(
      'api-gateway',
    );
    expect(r.namesOf('api-gateway', 'prod')).toEqual(
      expect.arrayContaining(['api-gateway', 'edge-gateway', 'platform/api-gateway']),
    );
  });

  it('refuses an unknown name with a ToolError naming the field and the closest names', () => {
    const err = (f: () => unknown): ToolError => {
      try {
        f();
      } catch (e) {
        if (e instanceof ToolError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    const typo = err(() => r.service('chekout'));
    expect(typo).toMatchObject({ code: 'not_found', field: 'service' });
    expect(typo.message).toBe('service: no service "chekout" in the catalog; did you mean checkout?');
    // A system and a database of that name: their services are what was meant.
    expect(err(() => r.service('payments')).message).toMatch(
      /^service: no service "payments" in the catalog \("payments" is resource:payments-db, a database and system payments\); did you mean payment-service, fraud-detector/,
    );
    expect(err(() => r.service('payments-db', { field: 'scope' })).message).toMatch(
      /^scope: no service "payments-db" .*did you mean .*payment-service/,
    );
    expect(err(() => r.entity('paymnts-db')).message).toMatch(
      /^service: no service or resource "paymnts-db" in the catalog; did you mean resource:payments-db/,
    );
    expect(err(() => r.service('zzzz')).message).toBe(
      'service: no service "zzzz" in the catalog; day2://services lists the services',
    );
    expect(err(() => r.service('system:payments')).message).toMatch(
      /did you mean payment-service, fraud-detector/,
    );
  });

  it('suggests by prefix, shared word and edit distance, not by the first letters only', () => {
    expect(r.suggest('api')).toEqual(['api-gateway']);
    expect(r.suggest('edge-gatewy')).toEqual(['api-gateway']);
    expect(r.suggest('gateway')).toEqual(['api-gateway']);
    expect(r.suggest('frud-detector')).toEqual(['fraud-detector']);
    expect(r.suggest('paymnet-service')[0]).toBe('payment-service');
  });
});

describe('closestNames', () => {
  it('ranks a typo, a prefix and a shared word, and drops what is far', () => {
    const names = ['checkout', 'cart', 'payment-service', 'payouts', 'ledger'];
    expect(closestNames('chekout', names, 3)).toEqual(['checkout']);
    expect(closestNames('pay', names, 3)).toEqual(['payouts', 'payment-service']);
    expect(closestNames('payments', names, 3)).toEqual(['payment-service']);
    expect(closestNames('legder', names, 3)).toEqual(['ledger']);
    expect(closestNames('zzzzzz', names, 3)).toEqual([]);
  });

  it('measures transpositions as one edit and stops early past a bound', () => {
    expect(editDistance('ledger', 'legder')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('a', 'abcdefgh', 2)).toBe(3);
  });
});
