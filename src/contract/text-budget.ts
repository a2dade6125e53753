/** The default budget of a tool result's text: many hosts hand the model only the text. */
export const TEXT_BUDGET_BYTES = 8192;

/**
 * Joins `head`, as many of `items` as fit, and `tail` within `budget` bytes (UTF-8). Head and tail
 * (the answer, warnings, next calls) are always kept; when items are left out, `omitted(n)` says
 * how many and how to get them, and its line is kept too.
 */
export function fitText(
  head: readonly string[],
  items: readonly string[],
  tail: readonly string[],
  omitted: (n: number) => string,
  budget = TEXT_BUDGET_BYTES,
): string {
  const bytes = (lines: readonly string[]) => Buffer.byteLength(lines.join('\n'), 'utf8');
  const fixed = bytes([...head, ...tail]) + Buffer.byteLength(omitted(items.length), 'utf8') + 2;
  const kept: string[] = [];
  let used = fixed;
  for (const item of items) {
    const cost = Buffer.byteLength(item, 'utf8') + 1;
    if (used + cost > budget) break;
    kept.push(item);
    used += cost;
  }
  const left = items.length - kept.length;
  return [...head, ...kept, ...(left ? [omitted(left)] : []), ...tail].filter(Boolean).join('\n');
}
