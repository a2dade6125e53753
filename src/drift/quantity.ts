/**
 * Kubernetes resource quantities in one canonical form, so that "1000m" equals "1" and "1Gi"
 * equals "1024Mi". Returns undefined for text that is not a quantity.
 */
export function canonicalQuantity(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return trimNumber(value);
  if (typeof value !== 'string') return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(
    value.trim(),
  );
  if (!m) return undefined;
  const n = Number(m[1]);
  const factor = SUFFIX[m[2] ?? ''] ?? 1;
  return trimNumber(n * factor);
}

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

function trimNumber(n: number): string {
  // Rounding to 9 significant decimals absorbs float noise from the milli and nano factors.
  return String(Math.round(n * 1e9) / 1e9);
}
