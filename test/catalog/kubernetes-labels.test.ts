import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../src/catalog/build-catalog.js';
import { mergeKubernetesLabels } from '../../src/catalog/kubernetes-labels.js';
import { parseCatalogText } from '../../src/catalog/parse-catalog.js';
import { component } from './fixtures.js';

const base = () => {
  const parsed = parseCatalogText(
    [
      component(
        'checkout',
        { owner: 'checkout-team', system: 'checkout' },
        { 'day2.dev/kubernetes-workload': 'shop/checkout-v2' },
      ),
      component(
        'cart',
        { owner: 'checkout-team', system: 'checkout' },
        { 'backstage.io/kubernetes-id': 'cart' },
      ),
      component('search', { owner: 'storefront', system: 'storefront' }),
    ].join('---\n'),
    'catalog.yaml',
  );
  return buildCatalog(parsed.entities);
};

describe('mergeKubernetesLabels', () => {
  it('links workloads by annotation, kubernetes-id, app name and deployment name', () => {
    const merged = mergeKubernetesLabels(base(), [
      { env: 'prod', namespace: 'shop', name: 'checkout-v2', labels: { 'day2.dev/owner': 'checkout-team' } },
      {
        env: 'prod',
        namespace: 'shop',
        name: 'cart-deploy',
        labels: { 'backstage.io/kubernetes-id': 'cart' },
      },
      {
        env: 'prod',
        namespace: 'storefront',
        name: 'search-api',
        labels: { 'app.kubernetes.io/name': 'search' },
      },
      { env: 'dev', namespace: 'storefront', name: 'search', labels: {} },
    ]);
    expect(merged.workloadFor('checkout', 'prod')).toMatchObject({
      namespace: 'shop',
      name: 'checkout-v2',
      source: 'kubernetes:prod/shop/checkout-v2',
    });
    expect(merged.workloadFor('cart', 'prod')).toMatchObject({ name: 'cart-deploy' });
    expect(merged.workloadFor('search', 'prod')).toMatchObject({
      namespace: 'storefront',
      name: 'search-api',
    });
    expect(merged.workloadFor('search', 'dev')).toMatchObject({ name: 'search' });
    expect(merged.workloadFor('search', 'staging')).toBeUndefined();
    expect(merged.service('search')!.sources).toEqual([
      'catalog.yaml',
      'kubernetes:prod/storefront/search-api',
      'kubernetes:dev/storefront/search',
    ]);
    expect(merged.serviceForWorkload('prod', 'shop', 'cart-deploy')?.id).toBe('cart');
    expect(merged.conflicts).toEqual([]);
    // the input catalog is untouched
    expect(base().service('search')!.workloads).toEqual([]);
  });

  it('keeps services found only on Kubernetes', () => {
    const merged = mergeKubernetesLabels(base(), [
      {
        env: 'prod',
        namespace: 'platform',
        name: 'feature-flags',
        labels: {
          'app.kubernetes.io/name': 'feature-flags',
          'app.kubernetes.io/part-of': 'platform',
          'app.kubernetes.io/managed-by': 'helm',
        },
        annotations: { 'day2.dev/owner': 'platform-team' },
      },
      {
        env: 'staging',
        namespace: 'platform',
        name: 'feature-flags',
        labels: { 'app.kubernetes.io/name': 'feature-flags' },
      },
    ]);
    const ff = merged.service('feature-flags')!;
    expect(ff).toMatchObject({ owner: 'platform-team', system: 'platform', tags: ['kubernetes-only'] });
    expect(ff.annotations['app.kubernetes.io/managed-by']).toBe('helm');
    expect(ff.workloads.map((w) => w.env)).toEqual(['prod', 'staging']);
    expect(merged.size).toBe(4);
    expect(merged.completeServiceNames('feat')).toEqual(['feature-flags']);
  });

  it('reports where labels disagree with the catalog', () => {
    const merged = mergeKubernetesLabels(base(), [
      {
        env: 'prod',
        namespace: 'shop',
        name: 'checkout-v2',
        labels: { 'day2.dev/owner': 'group:default/payments-team', 'app.kubernetes.io/part-of': 'checkout' },
      },
      {
        env: 'staging',
        namespace: 'shop',
        name: 'cart',
        labels: { 'app.kubernetes.io/part-of': 'storefront' },
      },
    ]);
    expect(merged.conflicts).toEqual([
      {
        entity: 'checkout',
        field: 'owner',
        values: [
          { source: 'catalog.yaml', value: 'checkout-team' },
          { source: 'kubernetes:prod/shop/checkout-v2', value: 'payments-team' },
        ],
      },
      {
        entity: 'cart',
        field: 'system',
        values: [
          { source: 'catalog.yaml', value: 'checkout' },
          { source: 'kubernetes:staging/shop/cart', value: 'storefront' },
        ],
      },
    ]);
    // the catalog's own answer stays
    expect(merged.service('checkout')!.owner).toBe('checkout-team');
  });
});
