import { describe, expect, it } from 'vitest';
import { narrows, tooBroad } from '../../../src/tools/incidents/silence-scope.js';
import { parseMatcher } from '../../../src/providers/alertmanager/matchers.js';

const set = (...m: string[]) => m.map(parseMatcher);

describe('silence scope', () => {
  it('refuses empty and match-everything matcher sets', () => {
    expect(tooBroad([])).toMatch(/at least one matcher/);
    for (const m of [
      ['env=~".+"'],
      ['alertname=~".*"'],
      ['service!="x"'],
      ['severity!~"info"', 'env=~".*"'],
      ['env=""'],
    ])
      expect(tooBroad(set(...m)), m.join(',')).toMatch(/match every alert/);
  });

  it('accepts a set with one specific positive matcher', () => {
    for (const m of [
      ['alertname="CheckoutHighErrorRate"'],
      ['service=~"checkout|cart"'],
      ['env=~".+"', 'service="checkout"'],
      ['alertname=~"Checkout.*"'],
    ])
      expect(tooBroad(set(...m)), m.join(',')).toBeUndefined();
    expect(narrows(parseMatcher('service!~"a|b"'))).toBe(false);
  });
});
