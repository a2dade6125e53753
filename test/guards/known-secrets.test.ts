import { describe, expect, it } from 'vitest';
import { KNOWN_SECRETS_MAX, redactText, registerSecret, REDACTED } from '../../src/core/redact.js';

// The redactor remembers every secret value day2 handles; a server that runs for months must not
// remember them without bound, yet must keep masking the ones it uses.
describe('known secrets', () => {
  it('keeps at most KNOWN_SECRETS_MAX values, forgetting the least recently used first', () => {
    const value = (i: number) => `s3cret-value-${String(i).padStart(6, '0')}`;
    registerSecret(value(0));
    registerSecret(value(1));
    for (let i = 2; i < KNOWN_SECRETS_MAX + 2; i++) {
      registerSecret(value(i));
      // value(1) is in use all along: every use registers it again.
      if (i % 1000 === 0) registerSecret(value(1));
    }
    registerSecret(value(1));
    expect(redactText(`a ${value(1)} b`)).toBe(`a ${REDACTED} b`);
    expect(redactText(value(KNOWN_SECRETS_MAX + 1))).toBe(REDACTED);
    // The oldest untouched values were forgotten: KNOWN_SECRETS_MAX + 2 registered, the cap kept.
    expect(redactText(value(0))).toBe(value(0));
    expect(redactText(value(2))).toBe(value(2));
    const kept = Array.from({ length: KNOWN_SECRETS_MAX + 2 }, (_, i) => value(i)).filter(
      (v) => redactText(v) === REDACTED,
    );
    expect(kept).toHaveLength(KNOWN_SECRETS_MAX);
  });
});
