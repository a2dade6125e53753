/**
 * Orders strings as `localeCompare` does in the root locale for printable ASCII (punctuation, then
 * digits, then letters, case mattering only between otherwise equal strings, lower case first),
 * without ICU: `localeCompare` builds a collator on first use that holds about 3 MB for the rest of
 * the process, and the catalog sorts ids and file names at start-up. Characters beyond ASCII sort
 * after it, by code point. Keeping the old order matters: where two catalog files define the same
 * entity, the first file read wins.
 */
const ASCII_ORDER = ' _-,;:!?.\'"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz';
const RANK = new Map([...ASCII_ORDER].map((c, i) => [c, i]));

function primary(c: string): number {
  const lower = c.length === 1 && c >= 'A' && c <= 'Z' ? c.toLowerCase() : c;
  return RANK.get(lower) ?? 0x100 + lower.codePointAt(0)!;
}

export function compareText(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = primary(x[i]!) - primary(y[i]!);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  // Equal but for case: the first difference decides, lower case first.
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! > y[i]! ? -1 : 1;
  return 0;
}
