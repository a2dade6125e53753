import { environmentConfig } from '../../../config/lookup.js';
import type { Deps } from '../../../contract/deps.js';
import type { Gap } from '../../context/gather.js';
import type { ToolContext } from '../../../contract/define-tool.js';

export type BacklogCategory = 'credentials' | 'drift' | 'versions' | 'cost' | 'access' | 'database';
export type BacklogRisk = 'critical' | 'high' | 'medium' | 'low';

/** A tool call that resolves an item: paste it into the assistant, or let it make the call. */
export interface FixCall {
  tool: string;
  arguments: Record<string, unknown>;
}

/** One piece of Day-2 work: what, where, whose, by when, how risky, and how to resolve it. */
export interface BacklogItem {
  /** Stable across runs: `category:env:object`. */
  id: string;
  category: BacklogCategory;
  title: string;
  env: string;
  service?: string;
  owner?: string;
  /** YYYY-MM-DD. */
  due?: string;
  risk: BacklogRisk;
  /** Evidence in one line; backend text stays data. */
  detail: string;
  monthly_savings?: number;
  /** The tool call that resolves it, when a day2 tool can. */
  fix?: FixCall;
  /** What to do when no day2 tool resolves it. */
  action?: string;
}

/** What a source gets: the dependencies, the environments asked about, and the time. */
export interface BacklogContext {
  deps: Deps;
  envs: string[];
  now: Date;
  /** Last day of the current calendar quarter (UTC), YYYY-MM-DD. */
  quarterEnd: string;
  /** Present when the backlog runs inside a tool call. */
  tool?: ToolContext;
}

/**
 * A producer of backlog items. Sources run in parallel; one that throws becomes a gap and the
 * others still answer. Add a source by appending it to the list `day2_backlog` is given.
 */
export interface BacklogSource {
  name: string;
  /** The category of every item it makes: a backlog asked for another category does not run it. */
  category: BacklogCategory;
  collect(ctx: BacklogContext): Promise<{ items: BacklogItem[]; gaps: Gap[] }>;
}

export const RISK_ORDER: Record<BacklogRisk, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function quarterEnd(now: Date): string {
  const q = Math.floor(now.getUTCMonth() / 3);
  return isoDate(new Date(Date.UTC(now.getUTCFullYear(), q * 3 + 3, 0)));
}

export function isProduction(deps: Deps, env: string): boolean {
  return environmentConfig(deps.config, env)?.tier === 'production';
}

/** The owning team of a service, when the catalog knows it. */
export function ownerOfService(deps: Deps, service: string | undefined): string | undefined {
  return service ? deps.catalog.service(service)?.owner : undefined;
}
