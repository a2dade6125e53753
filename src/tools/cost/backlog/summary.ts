import { RISK_ORDER, type BacklogCategory, type BacklogItem, type BacklogRisk } from './item.js';

/** Categories in the order a planner reads them. */
export const CATEGORY_ORDER: readonly BacklogCategory[] = [
  'credentials',
  'drift',
  'versions',
  'access',
  'database',
  'cost',
];

/** One category of the backlog: how much, how risky, and its first items (riskiest, soonest due). */
export interface BacklogGroup {
  category: BacklogCategory;
  count: number;
  by_risk: Partial<Record<BacklogRisk, number>>;
  /** Money a month its items would save, where they say. */
  monthly_savings?: number;
  top: BacklogItem[];
}

/** What a planner filters the backlog on. */
export interface BacklogFilter {
  category?: BacklogCategory;
  min_risk?: BacklogRisk;
  /** YYYY-MM-DD: only items due before it (items without a due date are left out). */
  due_before?: string;
  /** A team, matched without regard to case, with or without its `group:` or namespace prefix. */
  owner?: string;
}

/** The items `filter` keeps, in the order they came. */
export function filterBacklog(items: readonly BacklogItem[], filter: BacklogFilter): BacklogItem[] {
  const owner = filter.owner && ownerName(filter.owner);
  return items.filter(
    (i) =>
      (!filter.category || i.category === filter.category) &&
      (!filter.min_risk || RISK_ORDER[i.risk] <= RISK_ORDER[filter.min_risk]) &&
      (!filter.due_before || (i.due !== undefined && i.due < filter.due_before)) &&
      (!owner || (i.owner !== undefined && ownerName(i.owner) === owner)),
  );
}

/** Groups sorted items by category, keeping the first `top` of each. */
export function groupBacklog(items: readonly BacklogItem[], top: number): BacklogGroup[] {
  const groups: BacklogGroup[] = [];
  for (const category of CATEGORY_ORDER) {
    const of = items.filter((i) => i.category === category);
    if (!of.length) continue;
    const by_risk: BacklogGroup['by_risk'] = {};
    for (const i of of) by_risk[i.risk] = (by_risk[i.risk] ?? 0) + 1;
    const savings = of.reduce((s, i) => s + (i.monthly_savings ?? 0), 0);
    groups.push({
      category,
      count: of.length,
      by_risk,
      ...(savings > 0 ? { monthly_savings: Math.round(savings * 100) / 100 } : {}),
      top: of.slice(0, top),
    });
  }
  return groups;
}

/** One item in one line: risk, due, where, whose, what, and the call that fixes it. */
export function backlogLine(i: BacklogItem): string {
  const fix = i.fix
    ? ` → ${i.fix.tool} ${JSON.stringify(i.fix.arguments)}`
    : i.action
      ? ` → ${i.action}`
      : '';
  const title = i.title.length > 160 ? `${i.title.slice(0, 157)}...` : i.title;
  return `[${i.risk}] ${i.due ?? '-'} ${i.env} ${i.owner ?? '?'}: ${title}${fix}`;
}

function ownerName(owner: string): string {
  return (
    owner
      .trim()
      .toLowerCase()
      .replace(/^group:/, '')
      .split('/')
      .at(-1) ?? ''
  );
}
