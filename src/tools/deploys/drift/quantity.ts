import { quantityValue } from '../../../providers/kubernetes/quantity.js';

/**
 * Kubernetes resource quantities in one canonical form, so that "1000m" equals "1" and "1Gi"
 * equals "1024Mi". Returns undefined for text that is not a quantity.
 */
export function canonicalQuantity(value: unknown): string | undefined {
  const n = quantityValue(value);
  // Rounding to 9 significant decimals absorbs float noise from the milli and nano factors.
  return n === undefined ? undefined : String(Math.round(n * 1e9) / 1e9);
}
