/**
 * Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `1e9`, `12345n`), parsed in one place
 * for the provider, drift detection, cost and the fleet loader.
 */
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

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** The value of a quantity in base units (cores, bytes), or undefined when it is not one. */
export function quantityValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (SUFFIX[m[2] ?? ''] ?? 1);
}

/** CPU in millicores: `250m` → 250, `2` → 2000, `12345n` → 0.012345; 0 for missing or bad input. */
export function cpuMillicores(q: string | undefined): number {
  const v = quantityValue(q);
  return v === undefined ? 0 : v * 1000;
}

/** Memory in bytes: `512Mi` → 536870912, `1G` → 1e9; 0 for missing or bad input. */
export function memoryBytes(q: string | undefined): number {
  return quantityValue(q) ?? 0;
}

export function formatCpu(millicores: number): string {
  return millicores >= 1000 && millicores % 1000 === 0
    ? String(millicores / 1000)
    : `${Math.round(millicores)}m`;
}

export function formatMemory(bytes: number): string {
  const mi = bytes / 1024 ** 2;
  return mi >= 1024 && mi % 1024 === 0 ? `${mi / 1024}Gi` : `${Math.round(mi)}Mi`;
}
