/**
 * The text of a tool result, which must stand alone: many hosts hand the model only the text, so
 * it carries the answer, every warning and note, what was left out and the call that gets it,
 * within a budget. structuredContent keeps the full data. Tools build their text from these pieces
 * so that every tool says the same thing the same way.
 */

/** What one result's text may cost a model, in UTF-8 bytes. */
export const TEXT_BUDGET_BYTES = 8192;

/** Starts the line the registration layer appends when it had to cut a text; no render should need it. */
export const CUT_MARK = '[text cut at';

type Line = string | undefined | false | null | 0;

/** `tool {"a":1}`: a call the model can make as written. */
export function callText(tool: string, args: Record<string, unknown>): string {
  return `${tool} ${JSON.stringify(args)}`;
}

/** A backend that could not be read for an answer, as tools report it. */
export interface GapLike {
  backend?: string;
  env?: string;
  reason: string;
}

/** `Not read: datadog/prod (timed out); ...`: the backends an answer is missing, with why. */
export function gapsLine(gaps: readonly GapLike[]): string | undefined {
  if (gaps.length === 0) return undefined;
  const where = (g: GapLike) => [g.backend, g.env].filter(Boolean).join('/');
  return `Not read: ${gaps.map((g) => (where(g) ? `${where(g)} (${g.reason})` : g.reason)).join('; ')}`;
}

/** Where a capped list stands: rows shown on this page, rows in all, the cursor to the rest. */
export interface PageState {
  shown: number;
  total: number;
  next_cursor?: string;
}

/**
 * `showing 20 of 24 idle items; next page: cost_report {"env":"dev","cursor":"…"}`, or undefined
 * when the page shows everything. `call` is the call that made the page; the next page is the same
 * call with the cursor.
 */
export function pageLine(
  what: string,
  page: PageState,
  call: { tool: string; args: Record<string, unknown> },
): string | undefined {
  if (page.next_cursor === undefined && page.shown >= page.total) return undefined;
  const head = `showing ${page.shown} of ${page.total} ${what}`;
  if (page.next_cursor === undefined) return `${head} (the last page)`;
  const { cursor: _previous, ...args } = call.args;
  return `${head}; next page: ${callText(call.tool, { ...args, cursor: page.next_cursor })}`;
}

/** The parts of a text: `head` and `tail` are always kept; `rows` give way to the budget from the end. */
export interface AnswerParts {
  /** The answer. */
  head: Line[];
  /** The rows of a list, most important first. */
  rows?: string[];
  /** Warnings, notes, what was left out and the next calls. */
  tail?: Line[];
  /** The line that says how many rows the budget left out and how to read them (default: a generic one). */
  leftOut?: (n: number) => string;
}

/**
 * Joins the parts into one text within `budget` bytes: the rows that do not fit are left out, and
 * a line says how many and where they are. Empty lines (undefined, false, '') are dropped.
 */
export function answerText(parts: AnswerParts, budget = TEXT_BUDGET_BYTES): string {
  const head = parts.head.filter(isLine);
  const tail = (parts.tail ?? []).filter(isLine);
  const rows = parts.rows ?? [];
  const leftOut =
    parts.leftOut ??
    ((n: number) =>
      `… ${n} more line(s) left out of this text to keep it under ${Math.floor(budget / 1024)} KB; structuredContent has them all (a smaller limit shows fewer per page)`);
  // Room for the line that says what the budget left out, at its longest.
  const fixed = bytes([...head, ...tail].join('\n')) + bytes(leftOut(rows.length)) + 2;
  let used = fixed;
  let kept = 0;
  for (const r of rows) {
    const cost = bytes(r) + 1;
    if (used + cost > budget) break;
    used += cost;
    kept++;
  }
  const left = rows.length - kept;
  const cut = left > 0 ? leftOut(left) : undefined;
  return [...head, ...rows.slice(0, kept), ...(cut ? [cut] : []), ...tail].join('\n');
}

/**
 * The registration layer's last resort: a text over `budget` bytes keeps its first lines and says
 * how much was cut. Renders fit their texts with answerText; a contract test checks none needs this.
 */
export function capText(text: string, budget = TEXT_BUDGET_BYTES): string {
  if (bytes(text) <= budget) return text;
  const lines = text.split('\n');
  const room = budget - 200;
  const out: string[] = [];
  let used = 0;
  for (const l of lines) {
    const cost = bytes(l) + 1;
    if (used + cost > room) {
      // One line longer than the whole budget still shows its beginning.
      if (out.length === 0)
        out.push(
          Buffer.from(l)
            .subarray(0, room)
            .toString('utf8')
            .replace(/\uFFFD$/, ''),
        );
      break;
    }
    out.push(l);
    used += cost;
  }
  const left = lines.length - out.length;
  return `${out.join('\n')}\n${CUT_MARK} ${budget} bytes: ${left > 0 ? `${left} more line(s)` : 'the rest'} left out; structuredContent has the whole answer]`;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function isLine(l: Line): l is string {
  return typeof l === 'string' && l.length > 0;
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Keys whose strings, anywhere in a plan, are warnings or notes the model must read whole. */
const SAID_WHOLE = new Set(['warnings', 'warning', 'notes', 'note', 'problems', 'pod_problems']);
const PLAN_LINE_CHARS = 300;

/**
 * The plan an approver sees, short, for a write's text: `notes`, every warning and note in it
 * said whole (wherever it sits); `rows`, one line per part of the plan, its value as compact JSON
 * cut at PLAN_LINE_CHARS. structuredContent keeps the whole plan.
 */
export function planText(plan: Record<string, unknown>): { notes: string[]; rows: string[] } {
  const notes: string[] = [];
  const collect = (v: unknown, key: string | undefined): void => {
    if (typeof v === 'string') {
      if (key !== undefined) notes.push(`${/warn|problem/.test(key) ? 'Warning' : 'Note'}: ${v}`);
    } else if (Array.isArray(v)) for (const x of v) collect(x, key);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) collect(x, SAID_WHOLE.has(k) ? k : key);
  };
  collect(plan, undefined);
  let cut = false;
  const rows = Object.entries(plan)
    .filter(([k, v]) => k !== 'summary' && k !== 'risk' && !SAID_WHOLE.has(k) && !isEmpty(v))
    .map(([k, v]) => {
      const value = typeof v === 'string' ? v : JSON.stringify(v);
      if (value.length <= PLAN_LINE_CHARS) return `  ${k}: ${value}`;
      cut = true;
      return `  ${k}: ${value.slice(0, PLAN_LINE_CHARS - 1)}…`;
    });
  if (cut) rows.push('  (parts cut at … are left out here; structuredContent.plan has the whole plan)');
  return { notes, rows };
}
