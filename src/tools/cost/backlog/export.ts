import type { BacklogItem } from './item.js';

const COLUMNS = [
  'id',
  'category',
  'risk',
  'due',
  'env',
  'service',
  'owner',
  'title',
  'detail',
  'monthly_savings',
  'fix_tool',
  'fix_arguments',
  'action',
] as const;

function cells(i: BacklogItem): Record<(typeof COLUMNS)[number], string> {
  return {
    id: i.id,
    category: i.category,
    risk: i.risk,
    due: i.due ?? '',
    env: i.env,
    service: i.service ?? '',
    owner: i.owner ?? '',
    title: i.title,
    detail: i.detail,
    monthly_savings: i.monthly_savings === undefined ? '' : i.monthly_savings.toFixed(2),
    fix_tool: i.fix?.tool ?? '',
    fix_arguments: i.fix ? JSON.stringify(i.fix.arguments) : '',
    action: i.action ?? '',
  };
}

/**
 * RFC 4180 CSV with a header row. Cells that a spreadsheet would run as a formula (starting with
 * = + - @ or a tab) are prefixed with an apostrophe: backend text must never execute in a planner.
 */
export function backlogToCsv(items: readonly BacklogItem[]): string {
  const quote = (v: string) => {
    const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return (
    [COLUMNS.join(','), ...items.map((i) => COLUMNS.map((c) => quote(cells(i)[c])).join(','))].join('\r\n') +
    '\r\n'
  );
}

/** A Markdown table per category; the fix is the exact tool call. */
export function backlogToMarkdown(
  items: readonly BacklogItem[],
  opts: { title?: string; generatedAt?: string } = {},
): string {
  const esc = (v: string) =>
    v
      .replace(/\\/g, '\\\\')
      .replace(/\|/g, '\\|')
      .replace(/[\r\n]+/g, ' ')
      .replace(/`/g, "'");
  const out = [`# ${opts.title ?? 'Day-2 backlog'}`, ''];
  if (opts.generatedAt) out.push(`Generated ${opts.generatedAt}. ${items.length} items.`, '');
  const order = ['credentials', 'drift', 'versions', 'access', 'database', 'cost'];
  const cats = [...new Set(items.map((i) => i.category))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const cat of cats) {
    out.push(
      `## ${cat[0]!.toUpperCase()}${cat.slice(1)}`,
      '',
      '| Risk | Due | Env | Service | Owner | Item | Fix |',
      '|---|---|---|---|---|---|---|',
    );
    for (const i of items.filter((x) => x.category === cat)) {
      const fix = i.fix ? `\`${i.fix.tool} ${esc(JSON.stringify(i.fix.arguments))}\`` : esc(i.action ?? '');
      const savings = i.monthly_savings ? ` (saves ${i.monthly_savings.toFixed(2)}/month)` : '';
      out.push(
        `| ${i.risk} | ${i.due ?? ''} | ${esc(i.env)} | ${esc(i.service ?? '')} | ${esc(i.owner ?? '')} | ${esc(i.title)}${savings}: ${esc(i.detail)} | ${fix} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
