/**
 * Orders strings by UTF-16 code unit: a stable, locale-free order for ids, names and file names.
 * `localeCompare` would build an ICU collator on first use, which holds about 3 MB for the rest of
 * the process; the catalog sorts at start-up, so an idle server would pay for it.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
