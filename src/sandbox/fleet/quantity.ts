import { cpuMillicores, memoryBytes } from '../../providers/kubernetes/quantity.js';

/** Kubernetes resource quantities, as the fleet writes them (`250m`, `1.5`, `512Mi`, `2Gi`). */

export const CPU_QUANTITY = /^\d+(\.\d+)?m?$/;
export const MEMORY_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;

/** CPU quantity to millicores: `250m` → 250, `2` → 2000. */
export function parseCpu(q: string): number {
  if (!CPU_QUANTITY.test(q)) throw new Error(`not a CPU quantity: ${q}`);
  return Math.round(cpuMillicores(q));
}

/** Memory quantity to bytes: `512Mi` → 536870912. */
export function parseMemory(q: string): number {
  if (!MEMORY_QUANTITY.test(q)) throw new Error(`not a memory quantity: ${q}`);
  return Math.round(memoryBytes(q));
}
