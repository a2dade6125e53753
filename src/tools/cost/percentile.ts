/**
 * The p-th percentile by nearest rank: the smallest sample such that at least p % of the samples
 * are at or below it. No interpolation, so the answer is always a value that was observed.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}
