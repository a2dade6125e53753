import { describe, expect, it } from 'vitest';
import {
  answerText,
  capText,
  CUT_MARK,
  gapsLine,
  pageLine,
  planText,
  TEXT_BUDGET_BYTES,
} from '../../src/contract/answer-text.js';
import { CursorError, decodeCursor, encodeCursor, pageOf } from '../../src/contract/pages.js';

const bytes = (s: string) => Buffer.byteLength(s);

describe('answerText', () => {
  it('keeps head and tail whole and gives way with rows from the end, saying how many it left out', () => {
    const rows = Array.from({ length: 500 }, (_, i) => `row ${i} ${'x'.repeat(40)}`);
    const text = answerText({ head: ['the answer'], rows, tail: ['Warning: read me', undefined, ''] });
    expect(bytes(text)).toBeLessThanOrEqual(TEXT_BUDGET_BYTES);
    const lines = text.split('\n');
    expect(lines[0]).toBe('the answer');
    expect(lines.at(-1)).toBe('Warning: read me');
    const kept = lines.filter((l) => l.startsWith('row ')).length;
    expect(kept).toBeGreaterThan(100);
    expect(text).toContain(`… ${500 - kept} more line(s) left out of this text`);
    expect(lines[kept]).toBe(`row ${kept - 1} ${'x'.repeat(40)}`);
  });

  it('adds nothing when everything fits', () => {
    expect(answerText({ head: ['a'], rows: ['b', 'c'], tail: ['d'] })).toBe('a\nb\nc\nd');
  });
});

describe('capText, the last resort', () => {
  it('leaves a text within budget alone and cuts one over it at a line, saying so', () => {
    expect(capText('short')).toBe('short');
    const long = Array.from({ length: 1000 }, (_, i) => `line ${i} ${'é'.repeat(20)}`).join('\n');
    const cut = capText(long);
    expect(bytes(cut)).toBeLessThanOrEqual(TEXT_BUDGET_BYTES);
    expect(cut.startsWith('line 0 ')).toBe(true);
    expect(cut).toMatch(new RegExp(`\\${CUT_MARK} 8192 bytes: \\d+ more line\\(s\\) left out`));
  });

  it('shows the start of a single line longer than the budget', () => {
    const cut = capText('é'.repeat(10_000));
    expect(bytes(cut)).toBeLessThanOrEqual(TEXT_BUDGET_BYTES);
    expect(cut).toContain(CUT_MARK);
    expect(cut).not.toContain('\uFFFD');
  });
});

describe('the lines every tool says alike', () => {
  it('gapsLine names the backend, env and reason', () => {
    expect(gapsLine([])).toBeUndefined();
    expect(
      gapsLine([{ backend: 'datadog', env: 'prod', reason: 'timed out' }, { reason: 'no access' }]),
    ).toBe('Not read: datadog/prod (timed out); no access');
  });

  it('pageLine repeats the call that made the page, with the next cursor in place of the old one', () => {
    expect(pageLine('alerts', { shown: 3, total: 3 }, { tool: 'list_alerts', args: {} })).toBeUndefined();
    expect(
      pageLine(
        'idle items',
        { shown: 20, total: 24, next_cursor: 'NEXT' },
        { tool: 'cost_report', args: { env: 'dev', cursor: 'OLD' } },
      ),
    ).toBe('showing 20 of 24 idle items; next page: cost_report {"env":"dev","cursor":"NEXT"}');
    expect(pageLine('alerts', { shown: 4, total: 24 }, { tool: 'list_alerts', args: {} })).toBe(
      'showing 4 of 24 alerts (the last page)',
    );
  });

  it('planText says every warning and note of a plan whole and the rest one line per part', () => {
    const { notes, rows } = planText({
      summary: 'scale it',
      risk: 'high',
      hpa: { note: 'the HPA stays in charge' },
      warnings: ['no monitor matches'],
      empty: [],
      diff: 'x'.repeat(400),
    });
    expect(notes).toEqual(['Note: the HPA stays in charge', 'Warning: no monitor matches']);
    expect(rows[0]).toBe('  hpa: {"note":"the HPA stays in charge"}');
    expect(rows[1]).toMatch(/^ {2}diff: x+…$/);
    expect(rows.at(-1)).toContain('structuredContent.plan has the whole plan');
    expect(rows.join('\n')).not.toMatch(/summary|risk|empty|warnings/);
  });
});

describe('cursors', () => {
  it('page through a list once, and are bound to the query that made them', () => {
    const items = Array.from({ length: 7 }, (_, i) => i);
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = pageOf(items, { env: 'dev', limit: 3, cursor });
      expect(page.total).toBe(7);
      seen.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(items);
    const next = pageOf(items, { env: 'dev', limit: 3 }).next_cursor!;
    // Another page size is the same query; other filters are not.
    expect(pageOf(items, { env: 'dev', limit: 5, cursor: next }).items).toEqual([3, 4, 5, 6]);
    expect(() => pageOf(items, { env: 'prod', limit: 3, cursor: next })).toThrow(
      /^cursor: it was given for other arguments/,
    );
  });

  it('refuse what no tool gave, naming the field', () => {
    for (const bad of [
      'garbage',
      encodeCursor({ o: -1 }, {}),
      Buffer.from('[1]').toString('base64url'),
      'e30',
    ]) {
      const err = (() => {
        try {
          pageOf([1, 2, 3], { cursor: bad });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(CursorError);
      expect((err as CursorError).field).toBe('cursor');
      expect((err as Error).message).toMatch(/^cursor: /);
    }
    expect(decodeCursor(encodeCursor({ k: 'x' }, { a: 1 }), { a: 1 }, (p) => p.k)).toBe('x');
  });
});
