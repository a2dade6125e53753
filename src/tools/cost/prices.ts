import { ownEntry } from '../../config/lookup.js';
import type { Config } from '../../config/schema.js';

/** Prices of one environment, in the price table's currency. */
export interface Prices {
  vcpu_hour: number;
  gib_hour: number;
  storage_gib_month: number;
  load_balancer_hour: number;
}

/** Typical on-demand list prices, used when day2.yaml sets none. */
export const DEFAULT_PRICES: Prices = {
  vcpu_hour: 0.04,
  gib_hour: 0.005,
  storage_gib_month: 0.1,
  load_balancer_hour: 0.025,
};

/** Hours in an average month (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

/** The prices of `env`: its own entry, else `cost.default_prices`, else DEFAULT_PRICES. */
export function pricesFor(config: Config, env: string): Prices {
  const p = ownEntry(config.cost?.prices, env) ?? config.cost?.default_prices;
  return {
    vcpu_hour: p?.vcpu_hour ?? DEFAULT_PRICES.vcpu_hour,
    gib_hour: p?.gib_hour ?? DEFAULT_PRICES.gib_hour,
    storage_gib_month: p?.storage_gib_month ?? DEFAULT_PRICES.storage_gib_month,
    load_balancer_hour: p?.load_balancer_hour ?? DEFAULT_PRICES.load_balancer_hour,
  };
}

const GIB = 1024 ** 3;

/** Monthly price of requesting `cpuMillicores` and `memoryBytes` around the clock. */
export function monthlyCompute(p: Prices, cpuMillicores: number, memoryBytes: number): number {
  return ((cpuMillicores / 1000) * p.vcpu_hour + (memoryBytes / GIB) * p.gib_hour) * HOURS_PER_MONTH;
}

export function money(n: number): number {
  return Math.round(n * 100) / 100;
}
