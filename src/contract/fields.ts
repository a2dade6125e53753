import { z } from 'zod';
import { pageOf } from './pages.js';

export { CursorError, DEFAULT_LIMIT } from './pages.js';

/**
 * Field schemas shared by every tool, so that the same field reads the same everywhere. A field
 * whose name says it all has no description: every session pays for every byte of tools/list.
 */
export const envField = z.string().min(1);
export const serviceField = z.string().min(1);
export const approvalTokenField = z.string().optional();
/** An approval request's id; its pattern is checked on the server, which names the expected form. */
export const approvalIdField = z.string().regex(/^apr_[0-9a-f]+$/, 'an id such as apr_1a2b3c4d5e6f7a8b');
export const dryRunField = z.boolean().optional();
export const limitField = z.number().int().min(1).max(100).optional().meta({ default: 20 });
export const cursorField = z.string().optional();
export const rolloutTimeoutField = z.number().int().min(5).max(1800).optional().meta({ default: 300 });
export const reasonField = z.string().min(1).max(500).optional();
/** Widens a silence or downtime past its environment; part of what is approved. */
export const allEnvironmentsField = z.boolean().optional();

const DURATION_UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,5})(m|h|d)$/;

/** Milliseconds of a duration such as `30m`, `2h` or `7d`, or undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS] : undefined;
}

/** A duration argument (`30m`, `4h`, `1d`): checked here, turned into milliseconds with durationMs. */
export function durationField(description: string) {
  return z.string().regex(DURATION, 'a duration such as 30m, 2h or 1d').describe(description);
}

/** The `status` every write tool's output carries, so that one shape covers plan and result. */
export const writeStatusField = z
  .enum(['approval_required', 'dry_run', 'executed', 'refused'])
  .describe('approval_required: a human must approve; dry_run: plan only; executed: done');

/**
 * A page of a list by limit and cursor alone, its cursor bound to no other argument. New lists use
 * pageOf (src/contract/pages.ts), whose cursors are bound to the query; this stays for callers not
 * yet moved over.
 */
export function paginate<T>(items: readonly T[], limit: number | undefined, cursor: string | undefined) {
  return pageOf(items, { limit, cursor });
}
