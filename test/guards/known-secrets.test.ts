import { describe, expect, it } from 'vitest';
import { KNOWN_SECRETS_MAX, REDACTED, Redactor } from '../../src/core/redact.js';

// The redactor remembers every secret value day2 handles; a server that runs for months must not
// remember them without bound, yet must keep masking the ones it uses.
describe('known secrets', () => {
  it('keeps at most KNOWN_SECRETS_MAX values, forgetting the least recently used first', () => {
    const r = new Redactor();
    const value = (i: number) => `s3cret-value-${String(i).padStart(6, '0')}`;
    r.registerSecret(value(0));
    r.registerSecret(value(1));
    for (let i = 2; i < KNOWN_SECRETS_MAX + 2; i++) {
      r.registerSecret(value(i));
      // value(1) is in use all along: every use registers it again.
      if (i % 1000 === 0) r.registerSecret(value(1));
    }
    r.registerSecret(value(1));
    expect(r.redactText(`a ${value(1)} b`)).toBe(`a ${REDACTED} b`);
    expect(r.redactText(value(KNOWN_SECRETS_MAX + 1))).toBe(REDACTED);
    // The oldest untouched values were forgotten: KNOWN_SECRETS_MAX + 2 registered, the cap kept.
    expect(r.redactText(value(0))).toBe(value(0));
    expect(r.redactText(value(2))).toBe(value(2));
    const kept = Array.from({ length: KNOWN_SECRETS_MAX + 2 }, (_, i) => value(i)).filter(
      (v) => r.redactText(v) === REDACTED,
    );
    expect(kept).toHaveLength(KNOWN_SECRETS_MAX);
  });

  it('belong to one redactor: another knows none of them', () => {
    const a = new Redactor();
    const b = new Redactor();
    a.registerSecret('only-a-knows-this');
    b.registerSecret('only-b-knows-this');
    expect(a.redactText('only-a-knows-this only-b-knows-this')).toBe(`${REDACTED} only-b-knows-this`);
    expect(b.redactText('only-a-knows-this only-b-knows-this')).toBe(`only-a-knows-this ${REDACTED}`);
    expect(new Redactor().redact({ note: 'only-a-knows-this' })).toEqual({ note: 'only-a-knows-this' });
  });

  it('ignores values too short to be a secret', () => {
    const r = new Redactor();
    r.registerSecret('abc12');
    r.registerSecret(undefined);
    r.registerSecret('');
    expect(r.redactText('abc12')).toBe('abc12');
  });
});
