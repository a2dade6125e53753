/**
 * Fleet times are relative to a clock so that the sandbox always looks current:
 * `-12m` (12 minutes ago), `-1d6h`, `+30d` (in the future), `now`, or an absolute ISO time.
 */
export const RELATIVE_TIME = /^(now|[+-](\d+(ms|s|m|h|d|w))+)$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

export function isFleetTime(text: string): boolean {
  return RELATIVE_TIME.test(text) || (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text)));
}

/** Resolves a fleet time against `now`; throws on text that is not one. */
export function resolveFleetTime(text: string, now: Date): Date {
  if (text === 'now') return new Date(now.getTime());
  if (RELATIVE_TIME.test(text)) {
    const sign = text.startsWith('-') ? -1 : 1;
    let ms = 0;
    for (const m of text.slice(1).matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    return new Date(now.getTime() + sign * ms);
  }
  if (isFleetTime(text)) return new Date(text);
  throw new Error(`not a fleet time: ${text}`);
}
