import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandboxHarness, type SandboxHarness } from '../../../fixtures/sandbox-harness.js';
import { TEXT_BUDGET_BYTES } from '../../../../src/contract/answer-text.js';
import { BACKLOG_RESOURCE_BYTES } from '../../../../src/resources/backlog-resource.js';
import type { BacklogItem } from '../../../../src/tools/cost/backlog/item.js';
import { day2Backlog } from '../../../../src/tools/cost/day2-backlog.js';
import type { BacklogGroup } from '../../../../src/tools/cost/backlog/summary.js';

// Issue 16 item 3: a planner's backlog. By default a grouped summary within the text budget, each
// item with its fixing call; items page with a total and a cursor; exports ride as an embedded
// resource, never in structuredContent; day2://backlog stays within 16 KB.

interface Backlog {
  total: number;
  counts: Record<string, number>;
  groups?: BacklogGroup[];
  items?: BacklogItem[];
  next_cursor?: string;
  export?: { uri: string; mime_type: string; items: number; truncated: boolean };
}

let h: SandboxHarness;
let agent: Client;

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

async function backlog(args: Record<string, unknown>) {
  const r = (await agent.callTool({ name: 'day2_backlog', arguments: args })) as CallToolResult;
  expect(r.isError, textOf(r)).toBeFalsy();
  return { r, text: textOf(r), sc: r.structuredContent as unknown as Backlog };
}

beforeAll(async () => {
  h = await startSandboxHarness({ alertmanager: false });
  agent = await h.connect('planner');
}, 120_000);
afterAll(async () => h?.close());

describe("a planner's backlog", () => {
  it('answers by default with a summary per category within the text budget, each top item with its fixing call', async () => {
    const { text, sc } = await backlog({});
    expect(sc.total).toBeGreaterThan(20);
    expect(sc.items).toBeUndefined();
    expect(bytes(text)).toBeLessThanOrEqual(TEXT_BUDGET_BYTES);
    expect(bytes(JSON.stringify(sc))).toBeLessThan(24 * 1024);
    expect(sc.groups!.reduce((s, g) => s + g.count, 0)).toBe(sc.total);
    for (const g of sc.groups!) {
      expect(g.top.length).toBeLessThanOrEqual(3);
      expect(text).toContain(`${g.category}: ${g.count} (`);
      for (const i of g.top) {
        // Each item shown carries its fixing call (or what to do) in the text as in the structure.
        if (i.fix) expect(text).toContain(`${i.fix.tool} ${JSON.stringify(i.fix.arguments)}`);
      }
      if (g.count > g.top.length)
        expect(text).toContain(`day2_backlog {"category":"${g.category}","format":"items"}`);
    }
    expect(text).toMatch(/format "items"/);
  });

  it('pages items with a total and a cursor, every item once', async () => {
    const all: BacklogItem[] = [];
    let cursor: string | undefined;
    let total: number | undefined;
    do {
      const { text, sc } = await backlog({ format: 'items', limit: 25, ...(cursor ? { cursor } : {}) });
      expect(bytes(text)).toBeLessThanOrEqual(TEXT_BUDGET_BYTES);
      // The next page's call, as written: the same filters and page size, and the cursor.
      if (sc.next_cursor)
        expect(text).toContain(`day2_backlog {"limit":25,"format":"items","cursor":"${sc.next_cursor}"}`);
      total = sc.total;
      all.push(...sc.items!);
      cursor = sc.next_cursor;
    } while (cursor);
    expect(all).toHaveLength(total);
    expect(new Set(all.map((i) => i.id)).size).toBe(total);
  });

  it('filters by due_before, owner and env', async () => {
    const everything = (await backlog({ format: 'items', limit: 100 })).sc.items!;
    const due = everything.filter((i) => i.due).sort((a, b) => a.due!.localeCompare(b.due!));
    expect(due.length).toBeGreaterThan(1);
    const cut = due.at(-1)!.due!;
    const before = (await backlog({ format: 'items', limit: 100, due_before: cut })).sc;
    expect(before.total).toBe(due.filter((i) => i.due! < cut).length);
    expect(before.items!.every((i) => i.due && i.due < cut)).toBe(true);

    const owner = everything.find((i) => i.owner)!.owner!;
    const owned = (await backlog({ owner: owner.toUpperCase() })).sc;
    expect(owned.total).toBe(everything.filter((i) => i.owner === owner).length);
    expect(owned.groups!.flatMap((g) => g.top).every((i) => i.owner === owner)).toBe(true);

    const prod = await backlog({ env: 'prod' });
    expect(prod.sc.groups!.flatMap((g) => g.top).every((i) => i.env === 'prod')).toBe(true);
    // The rest of a category is offered with the same filters, so its count is the one promised.
    const more = prod.sc.groups!.find((g) => g.count > g.top.length)!;
    const call = `day2_backlog {"env":"prod","category":"${more.category}","format":"items"}`;
    expect(prod.text).toContain(`${more.count - more.top.length} more: ${call}`);
    const rest = await backlog({ env: 'prod', category: more.category, format: 'items', limit: 100 });
    expect(rest.sc.total).toBe(more.count);
  });

  it('returns an export as an embedded resource, not in structuredContent', async () => {
    for (const [format, mime] of [
      ['csv', 'text/csv'],
      ['markdown', 'text/markdown'],
    ] as const) {
      const { r, text, sc } = await backlog({ format });
      const embedded = r.content.filter((c) => c.type === 'resource');
      expect(embedded).toHaveLength(1);
      const doc = embedded[0]!.resource as { uri: string; mimeType: string; text: string };
      expect(doc.mimeType).toBe(mime);
      expect(sc.export).toEqual({ uri: doc.uri, mime_type: mime, items: sc.total, truncated: false });
      const structured = JSON.stringify(sc);
      // Not duplicated: the structure holds the summary and where the file is, not the file.
      expect(bytes(structured)).toBeLessThan(bytes(doc.text));
      expect(structured).not.toContain(doc.text.split('\n')[0]!.slice(0, 60));
      expect(text).toContain(`attached as ${mime} (${doc.uri})`);
      expect(bytes(text)).toBeLessThanOrEqual(TEXT_BUDGET_BYTES);
    }
  });

  it('says when an export holds only the riskiest items of a longer list', () => {
    const text = day2Backlog.render(
      {
        total: 1500,
        counts: { drift: 1500 },
        groups: [],
        gaps: [],
        export: { uri: 'day2://backlog/export.csv', mime_type: 'text/csv', items: 1000, truncated: true },
      },
      { format: 'csv' },
    );
    expect(text).toContain(
      'The riskiest 1000 of the 1500 items are attached as text/csv (day2://backlog/export.csv); narrow with',
    );
    expect(text).not.toContain('whole list');
  });

  it('day2://backlog is a summary within 16 KB', async () => {
    const res = await agent.readResource({ uri: 'day2://backlog' });
    const body = (res.contents[0] as { text: string }).text;
    expect(bytes(body)).toBeLessThanOrEqual(BACKLOG_RESOURCE_BYTES);
    const json = JSON.parse(body) as { total: number; groups: BacklogGroup[]; more: string };
    expect(json.total).toBeGreaterThan(20);
    expect(json.groups.reduce((s, g) => s + g.count, 0)).toBe(json.total);
    expect(json.groups.every((g) => g.top.length > 0)).toBe(true);
    expect(json.more).toContain('day2_backlog');
  });
});
