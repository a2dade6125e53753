/** Kubernetes resource quantities, as the fleet writes them (`250m`, `1.5`, `512Mi`, `2Gi`). */

export const CPU_QUANTITY = /^\d+(\.\d+)?m?$/;
export const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** CPU quantity to millicores: `250m` → 250, `2` → 2000. */
export function parseCpu(q: string): number {
  if (!CPU_QUANTITY.test(q)) throw new Error(`not a CPU quantity: ${q}`);
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Memory quantity to bytes: `512Mi` → 536870912. */
export function parseMemory(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  return Math.round(Number(m[1]) * MEMORY_UNITS[m[2] ?? '']!);
}
