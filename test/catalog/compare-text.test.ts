import { describe, expect, it } from 'vitest';
import { compareText } from '../../src/core/compare-text.js';

/**
 * compareText keeps the order the catalog had with localeCompare (root locale) for printable
 * ASCII, without ICU: where two catalog files define the same entity, which file is read first —
 * and so which definition wins — must not change.
 */
const ALPHABET =
  ' _-,;:!?.\'"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A small deterministic generator (mulberry32), so that a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('compareText', () => {
  it('orders file names and ids as localeCompare did', () => {
    const names = [
      'Payments.yaml',
      'alpha.yaml',
      '_shared.yaml',
      'a-b.yaml',
      'a_b.yaml',
      'a.b.yaml',
      '10.yaml',
      '9.yaml',
    ];
    expect([...names].sort(compareText)).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(['b', 'B', 'a', 'A'].sort(compareText)).toEqual(['a', 'A', 'b', 'B']);
  });

  it('agrees with localeCompare on 100,000 random pairs of printable ASCII', () => {
    const next = random(18);
    // Half the characters from the punctuation at the front, where the orders differ most.
    const pick = () => ALPHABET[Math.floor(next() * (next() < 0.5 ? 34 : ALPHABET.length))]!;
    const text = () => Array.from({ length: Math.floor(next() * 6) }, pick).join('');
    const disagreements: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const a = text();
      const b = text();
      if (Math.sign(compareText(a, b)) !== Math.sign(a.localeCompare(b)))
        disagreements.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
  });

  it('sorts characters beyond ASCII after it, by code point', () => {
    expect(['é', 'z', 'ü', '~'].sort(compareText)).toEqual(['~', 'z', 'é', 'ü']);
  });
});
