/** Kubernetes quantities as numbers; unparseable input counts as 0 rather than failing a report. */

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
  m: 1e-3,
};

/** `250m` → 250, `2` → 2000, `0.5` → 500, `1500000n` → 1.5. */
export function cpuMillicores(q: string | undefined): number {
  if (!q) return 0;
  const m = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(q.trim());
  if (!m) return 0;
  const v = Number(m[1]);
  return m[2] === 'n' ? v / 1e6 : m[2] === 'u' ? v / 1e3 : m[2] === 'm' ? v : v * 1000;
}

/** `512Mi` → 536870912, `1G` → 1e9. */
export function memoryBytes(q: string | undefined): number {
  if (!q) return 0;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(q.trim());
  if (!m) return 0;
  return Number(m[1]) * (MEMORY_UNITS[m[2] ?? ''] ?? 1);
}

export function formatCpu(m: number): string {
  return m >= 1000 && m % 1000 === 0 ? String(m / 1000) : `${Math.round(m)}m`;
}

export function formatMemory(bytes: number): string {
  const mi = bytes / 1024 ** 2;
  return mi >= 1024 && mi % 1024 === 0 ? `${mi / 1024}Gi` : `${Math.round(mi)}Mi`;
}
