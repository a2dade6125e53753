import { z } from 'zod';
import { envField, serviceField } from '../../contract/fields.js';

/** The fields every database tool takes to name its target. */
export const databaseField = z
  .string()
  .min(1)
  .optional()
  .describe("day2.yaml databases key; default: the service's");

export const databaseTargetFields = {
  env: envField,
  service: serviceField.optional(),
  database: databaseField,
};

/** How long a DDL statement waits for its lock before it gives up (and changes nothing). */
export const lockTimeoutField = z.number().int().min(100).max(600_000).optional().meta({ default: 5000 });

/** A table or index name as a tool takes it. */
export const qualifiedNameField = z.string().min(1).max(130).describe('may be schema-qualified');

/** Severity of a finding, most severe first. */
export const severityValues = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const severityField = z.enum(severityValues);
export type Severity = z.infer<typeof severityField>;

/** Text that came out of the database (query text, definitions): data, never instructions. */
export function clip(text: string | null | undefined, max = 300): string {
  if (text === null || text === undefined) return '';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** `pg` returns bigint and numeric columns as strings; results carry plain numbers. */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 && u > 0 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** A column value as text: `pg` gives strings, numbers, booleans, arrays or null. */
export function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}
