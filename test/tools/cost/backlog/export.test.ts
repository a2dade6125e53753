import { describe, expect, it } from 'vitest';
import { backlogToCsv, backlogToMarkdown } from '../../../../src/tools/cost/backlog/export.js';
import { quarterEnd, type BacklogItem } from '../../../../src/tools/cost/backlog/item.js';
import { percentile } from '../../../../src/tools/cost/percentile.js';

const item = (over: Partial<BacklogItem>): BacklogItem => ({
  id: 'x',
  category: 'drift',
  title: 't',
  env: 'prod',
  risk: 'high',
  detail: 'd',
  ...over,
});

describe('backlog export', () => {
  it('quotes CSV cells and neutralises spreadsheet formulas from backend text', () => {
    const csv = backlogToCsv([
      item({
        id: 'a',
        title: '=HYPERLINK("http://x")',
        detail: 'two, parts\nand "quotes"',
        fix: { tool: 'remediate_drift', arguments: { env: 'prod' } },
      }),
    ]);
    const [header, row] = csv.split('\r\n');
    expect(header!.split(',')).toHaveLength(13);
    expect(row).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(row).toContain('"two, parts\nand ""quotes"""');
    expect(row).toContain('remediate_drift,"{""env"":""prod""}"');
  });

  it('keeps Markdown tables intact when text carries pipes and newlines', () => {
    const md = backlogToMarkdown([item({ title: 'a | b', detail: 'line1\nline2', action: 'do it' })]);
    const row = md.split('\n').find((l) => l.startsWith('| high'))!;
    expect(row).toContain('a \\| b');
    expect(row).not.toContain('\nline2');
    expect(row.split(/(?<!\\)\|/).length).toBe(9);
  });
});

describe('helpers', () => {
  it('p95 by nearest rank is an observed value', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100], 95)).toBe(19);
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([3, 1, 2], 95)).toBe(3);
  });

  it('quarter end is the last day of the calendar quarter', () => {
    expect(quarterEnd(new Date('2026-11-26T12:00:00Z'))).toBe('2026-12-31');
    expect(quarterEnd(new Date('2026-02-03T00:00:00Z'))).toBe('2026-03-31');
    expect(quarterEnd(new Date('2026-06-30T23:00:00Z'))).toBe('2026-06-30');
  });
});
