import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileMatcher,
  formatMatcher,
  InvalidMatcherError,
  matchesAll,
  parseMatcher,
  type Matcher,
} from '../../src/providers/alertmanager/index.js';

const labels = { alertname: 'HighLatency', service: 'payments-api', severity: 'page', env: 'prod' };

describe('Alertmanager matcher semantics', () => {
  it('applies =, !=, =~ and !~ with anchored regexes', () => {
    const m = (name: string, value: string, isRegex: boolean, isEqual?: boolean): Matcher => ({
      name,
      value,
      isRegex,
      isEqual,
    });
    expect(compileMatcher(m('service', 'payments-api', false))(labels)).toBe(true);
    expect(compileMatcher(m('service', 'payments', false))(labels)).toBe(false);
    expect(compileMatcher(m('service', 'payments', false, false))(labels)).toBe(true);
    // Regexes are anchored at both ends.
    expect(compileMatcher(m('service', 'payments', true))(labels)).toBe(false);
    expect(compileMatcher(m('service', 'payments.*', true))(labels)).toBe(true);
    expect(compileMatcher(m('service', 'api', true))(labels)).toBe(false);
    expect(compileMatcher(m('service', 'pay|payments-api', true))(labels)).toBe(true);
    expect(compileMatcher(m('service', 'pay.*', true, false))(labels)).toBe(false);
    expect(compileMatcher(m('severity', 'warning|info', true, false))(labels)).toBe(true);
  });

  it('treats a missing label as the empty string', () => {
    expect(compileMatcher({ name: 'team', value: '', isRegex: false })(labels)).toBe(true);
    expect(compileMatcher({ name: 'team', value: '.*', isRegex: true })(labels)).toBe(true);
    expect(compileMatcher({ name: 'team', value: '.+', isRegex: true })(labels)).toBe(false);
    expect(compileMatcher({ name: 'team', value: 'sre', isRegex: false, isEqual: false })(labels)).toBe(true);
  });

  it('requires every matcher to match', () => {
    expect(
      matchesAll(
        [
          { name: 'env', value: 'prod', isRegex: false },
          { name: 'severity', value: 'page', isRegex: false },
        ],
        labels,
      ),
    ).toBe(true);
    expect(
      matchesAll(
        [
          { name: 'env', value: 'prod', isRegex: false },
          { name: 'severity', value: 'ticket', isRegex: false },
        ],
        labels,
      ),
    ).toBe(false);
  });

  it('supports a leading (?i) flag and refuses what RE2 lacks', () => {
    expect(compileMatcher({ name: 'alertname', value: '(?i)highlatency', isRegex: true })(labels)).toBe(true);
    expect(() => compileMatcher({ name: 'service', value: '(?=pay).*', isRegex: true })).toThrow(
      InvalidMatcherError,
    );
    expect(() => compileMatcher({ name: 'service', value: '(a)\\1', isRegex: true })).toThrow(
      InvalidMatcherError,
    );
    expect(() => compileMatcher({ name: 'service', value: '(unclosed', isRegex: true })).toThrow(
      InvalidMatcherError,
    );
    // Escaped or bracketed look-alikes are ordinary RE2.
    expect(compileMatcher({ name: 'v', value: '\\\\1', isRegex: true })({ v: '\\1' })).toBe(true);
    expect(compileMatcher({ name: 'v', value: '[(?=]+', isRegex: true })({ v: '(?=' })).toBe(true);
    expect(compileMatcher({ name: 'v', value: '\\(\\?=', isRegex: true })({ v: '(?=' })).toBe(true);
  });

  it('parses and formats the filter syntax', () => {
    expect(parseMatcher('service="payments"')).toEqual({
      name: 'service',
      value: 'payments',
      isRegex: false,
      isEqual: true,
    });
    expect(parseMatcher('service != payments')).toEqual({
      name: 'service',
      value: 'payments',
      isRegex: false,
      isEqual: false,
    });
    expect(parseMatcher('service=~"pay.*"')).toEqual({
      name: 'service',
      value: 'pay.*',
      isRegex: true,
      isEqual: true,
    });
    expect(parseMatcher('service!~"a\\"b"')).toEqual({
      name: 'service',
      value: 'a"b',
      isRegex: true,
      isEqual: false,
    });
    expect(() => parseMatcher('not a matcher')).toThrow(InvalidMatcherError);
    expect(() => parseMatcher('x=~"(bad"')).toThrow(InvalidMatcherError);
    expect(formatMatcher({ name: 'a', value: 'x"y\\z', isRegex: false, isEqual: false })).toBe(
      'a!="x\\"y\\\\z"',
    );
  });

  it('round-trips any matcher through formatMatcher and parseMatcher', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/),
        fc.string({ maxLength: 20 }),
        fc.boolean(),
        fc.boolean(),
        (name, value, isRegex, isEqual) => {
          const safeValue = isRegex ? value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : value;
          const m = { name, value: safeValue, isRegex, isEqual };
          expect(parseMatcher(formatMatcher(m))).toEqual(m);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
