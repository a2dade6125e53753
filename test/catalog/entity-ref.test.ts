import { describe, expect, it } from 'vitest';
import {
  humanizeEntityRef,
  parseEntityRef,
  stringifyEntityRef,
  tryParseEntityRef,
} from '../../src/catalog/entity-ref.js';

describe('entity refs', () => {
  it('fills kind and namespace from defaults', () => {
    expect(parseEntityRef('checkout', { defaultKind: 'component' })).toEqual({
      kind: 'component',
      namespace: 'default',
      name: 'checkout',
    });
    expect(parseEntityRef('payments-team', { defaultKind: 'group' })).toEqual({
      kind: 'group',
      namespace: 'default',
      name: 'payments-team',
    });
    expect(parseEntityRef('shop/checkout', { defaultKind: 'component' })).toEqual({
      kind: 'component',
      namespace: 'shop',
      name: 'checkout',
    });
  });

  it('keeps an explicit kind and namespace, case-insensitively', () => {
    expect(parseEntityRef('Resource:Default/Orders-DB', { defaultKind: 'component' })).toEqual({
      kind: 'resource',
      namespace: 'default',
      name: 'orders-db',
    });
    expect(stringifyEntityRef(parseEntityRef('group:ops/sre'))).toBe('group:ops/sre');
  });

  it('refuses a ref without kind when the field has no default kind', () => {
    expect(tryParseEntityRef('ledger')).toBeUndefined();
    expect(() => parseEntityRef('ledger')).toThrow(/component:default\/ledger/);
  });

  it('refuses malformed refs', () => {
    for (const bad of [
      '',
      'a:b:c/d',
      'component:/x',
      'component:ns/',
      'a/b/c',
      'x'.repeat(64),
      'has space',
    ]) {
      expect(tryParseEntityRef(bad, { defaultKind: 'component' }), bad).toBeUndefined();
    }
  });

  it('humanizes by dropping the default kind and namespace', () => {
    expect(humanizeEntityRef({ kind: 'component', namespace: 'default', name: 'cart' })).toBe('cart');
    expect(humanizeEntityRef({ kind: 'resource', namespace: 'default', name: 'orders-db' })).toBe(
      'resource:orders-db',
    );
    expect(humanizeEntityRef({ kind: 'component', namespace: 'shop', name: 'cart' })).toBe('shop/cart');
  });
});
