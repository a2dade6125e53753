import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { capList } from '../../src/contract/pages.js';
import { parseImageRef } from '../../src/providers/registry/index.js';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';
import { startTestRegistry, type RegistryProcess } from '../fixtures/registry.js';
import { resultText } from '../fixtures/text-check.js';

/**
 * Pages everywhere a list is capped, over every paged tool through a real MCP client: a call with a
 * small limit returns the total and a next_cursor (named in the text too); following the cursors
 * reaches every row exactly once, in the order one big page has them; a cursor that is not one, or
 * that was given for other arguments, is refused with an error that names the field.
 */

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface PagedList {
  /** The array in structuredContent. */
  rows: string;
  /** How many rows the list has in all. */
  total: (sc: Obj) => number;
}

interface PagedTool {
  tool: string;
  /** The filters of the call; limit and cursor are the test's. */
  args: () => Obj;
  lists: PagedList[];
  /** The arguments of another query of the same tool, for a cursor that belongs to this one. */
  other?: () => Obj;
}

const total = (rows: string): PagedList => ({ rows, total: (sc) => sc.total as number });
const counted = (rows: string, count = rows): PagedList => ({
  rows,
  total: (sc) => sc.counts[count] as number,
});

let h: SandboxHarness;
let agent: Client;
let registry: RegistryProcess;
let prod = '';
let other = '';

const PAGED: PagedTool[] = [
  { tool: 'list_alerts', args: () => ({}), lists: [total('alerts')], other: () => ({ env: prod }) },
  { tool: 'list_deployments', args: () => ({}), lists: [total('deployments')], other: () => ({ env: prod }) },
  { tool: 'list_credentials', args: () => ({}), lists: [total('credentials')], other: () => ({ env: prod }) },
  {
    tool: 'list_access_grants',
    args: () => ({ include_revoked: true }),
    lists: [total('grants')],
    other: () => ({}),
  },
  {
    tool: 'patch_report',
    args: () => ({ env: prod }),
    lists: [total('images')],
    other: () => ({ env: other }),
  },
  {
    tool: 'capacity_report',
    args: () => ({ env: prod }),
    lists: [total('services')],
    other: () => ({ env: other }),
  },
  {
    tool: 'detect_drift',
    args: () => ({ env: prod, include_in_sync: true }),
    lists: [total('objects')],
    other: () => ({ env: prod }),
  },
  {
    tool: 'cost_report',
    args: () => ({}),
    lists: [counted('idle'), counted('rightsizing'), counted('orphans')],
    other: () => ({ env: prod }),
  },
  {
    tool: 'list_changes',
    args: () => ({ env: other, since: '30d' }),
    lists: [total('changes')],
    other: () => ({ env: other, since: '30d', kinds: ['day2'] }),
  },
  {
    tool: 'day2_backlog',
    args: () => ({ format: 'items' }),
    lists: [total('items')],
    other: () => ({ format: 'items', env: prod }),
  },
  // Every call is an action, this test's own reads too: the grants are a list that the paging leaves alone.
  {
    tool: 'search_audit',
    args: () => ({ tool: 'grant_access' }),
    lists: [total('actions')],
    other: () => ({ tool: 'list_alerts' }),
  },
];

async function call(tool: string, args: Obj): Promise<CallToolResult> {
  return (await agent.callTool({ name: tool, arguments: args })) as CallToolResult;
}

async function approved(tool: string, args: Obj): Promise<void> {
  const asked = (await call(tool, args)).structuredContent as Obj;
  await h.rt.approvals.approve(asked.approval_id as string, 'alice', {
    channel: 'cli',
    reason: 'pages test',
  });
  const done = await call(tool, { ...args, approval_id: asked.approval_id });
  expect(done.isError ?? false, resultText(done)).toBe(false);
}

beforeAll(async () => {
  h = await startSandboxHarness({ alertmanager: true });
  const envs = h.rt.deps.config.environments;
  prod = Object.keys(envs).find((e) => envs[e]!.tier === 'production')!;
  other = Object.keys(envs).find((e) => e !== prod && envs[e]!.kubernetes)!;
  // A registry that has a newer patch of the first few images prod runs, so patch_report has a list.
  const images = h.sandbox.emulators.kubernetes[prod]!.store.list('apps/v1', 'Deployment')
    .flatMap((d) =>
      ((d.spec as Obj).template.spec.containers as Obj[]).map((c) => parseImageRef(c.image as string)),
    )
    .filter((r) => r.tag && /^\d+\.\d+\.\d+$/.test(r.tag))
    .slice(0, 5);
  const pushed: Record<string, string[]> = {};
  for (const r of images) {
    const [major, minor, patch] = r.tag!.split('.').map(Number);
    pushed[r.repository] = [r.tag!, `${major}.${minor}.${patch! + 1}`];
  }
  ({ registry } = await startTestRegistry(pushed));
  h.sandbox.environments[prod]!.registry = { url: registry.url, host: images[0]!.host! };
  agent = await h.connect('agent-bot');
  // Rows for the list that starts empty, day2's own grants; each is a day2 change in the ledger too.
  const catalog = h.rt.deps.catalog;
  const svc = catalog.services().find((s) => catalog.workloadFor(s.id, other))!.id;
  for (const who of ['carol', 'dave', 'erin'])
    await approved('grant_access', {
      principal: who,
      env: other,
      scope: svc,
      role: 'view',
      duration: '1h',
      reason: 'pages test',
    });
}, 180_000);

afterAll(async () => {
  await h?.close();
  await registry?.close();
});

/** Follows the cursors from the first page of `limit` rows; returns every page's structured answer and text. */
async function follow(p: PagedTool, limit: number): Promise<{ sc: Obj; text: string }[]> {
  const pages: { sc: Obj; text: string }[] = [];
  let cursor: string | undefined;
  do {
    const r = await call(p.tool, { ...p.args(), limit, ...(cursor ? { cursor } : {}) });
    if (r.isError) throw new Error(`${p.tool} ${JSON.stringify({ limit, cursor })}: ${resultText(r)}`);
    const sc = r.structuredContent as Obj;
    pages.push({ sc, text: resultText(r) });
    cursor = sc.next_cursor as string | undefined;
  } while (cursor && pages.length < 200);
  return pages;
}

/** What is wrong with one paged tool, as lines (empty when it pages right). */
async function pagingFaults(p: PagedTool): Promise<string[]> {
  const faults: string[] = [];
  const fail = (ok: boolean, what: string) => {
    if (!ok) faults.push(what);
  };
  // The whole list: big pages (a tool may still cut one short to keep its answer within budget).
  const big = await follow(p, 100);
  const all: Obj = { ...big[0]!.sc };
  for (const l of p.lists) {
    all[l.rows] = big.flatMap((pg) => pg.sc[l.rows] as unknown[]);
    fail(typeof l.total(all) === 'number', `${l.rows}: no total`);
    fail(
      (all[l.rows] as unknown[]).length === l.total(all),
      `${l.rows}: the big pages are not the whole list`,
    );
  }
  if (faults.length) return faults;
  const most = Math.max(...p.lists.map((l) => l.total(all)));
  fail(most >= 3, `the list is too short to page (${most} rows)`);
  // Three or four pages: enough to page, few enough that a costly report is not run twenty times.
  const limit = Math.max(2, Math.ceil(most / 3));
  const pages = await follow(p, limit);
  const first = pages[0]!;
  fail(typeof first.sc.next_cursor === 'string', `the first page of ${limit} has no next_cursor`);
  fail(
    first.text.includes(first.sc.next_cursor as string),
    'the first page does not name its next_cursor in the text',
  );
  for (const l of p.lists) {
    const followed = pages.flatMap((pg) => pg.sc[l.rows] as unknown[]).map((x) => JSON.stringify(x));
    const expected = (all[l.rows] as unknown[]).map((x) => JSON.stringify(x));
    fail(new Set(followed).size === followed.length, `${l.rows}: a row came twice`);
    fail(
      JSON.stringify(followed) === JSON.stringify(expected),
      `${l.rows}: the pages are not the whole list, in order`,
    );
    fail(
      pages.every((pg) => l.total(pg.sc) === l.total(all)),
      `${l.rows}: the total changes from page to page`,
    );
  }
  fail(pages.at(-1)!.sc.next_cursor === undefined, 'the last page still has a next_cursor');

  const bad = await call(p.tool, { ...p.args(), cursor: 'not-a-cursor' });
  fail(bad.isError === true && /^cursor: /.test(resultText(bad)), `a bad cursor: ${resultText(bad)}`);
  if (p.other && typeof first.sc.next_cursor === 'string') {
    const elsewhere = await call(p.tool, { ...p.other(), cursor: first.sc.next_cursor });
    fail(
      elsewhere.isError === true && /^cursor: .*other arguments/.test(resultText(elsewhere)),
      `a cursor of another query: ${resultText(elsewhere)}`,
    );
  }
  return faults;
}

describe('pages everywhere a list is capped', () => {
  it('every paged tool: totals, a next_cursor said in the text, every row exactly once, bad cursors refused', async () => {
    const faults: Record<string, string[]> = {};
    for (const p of PAGED) {
      const f = await pagingFaults(p).catch((err: Error) => [err.message]);
      if (f.length) faults[p.tool] = f;
    }
    expect(faults).toEqual({});
  }, 120_000);

  it('every served tool that takes a cursor is in the paged list', async () => {
    const tools = (await agent.listTools()).tools;
    const withCursor = tools.filter((t) => 'cursor' in (t.inputSchema.properties ?? {})).map((t) => t.name);
    const paged = new Set(PAGED.map((p) => p.tool));
    // db_health pages too; its findings need a database with problems, which its own suite seeds.
    expect(withCursor.filter((t) => !paged.has(t) && t !== 'db_health')).toEqual([]);
  });
});

describe('resources that list are summarised alike: the rows they hold, the total, and the call for the rest', () => {
  it('capList keeps the first rows, counts them all and names the tool call that pages through every one', () => {
    const rows = Array.from({ length: 7 }, (_, i) => i);
    expect(capList('alerts', rows, 5, { tool: 'list_alerts', args: { limit: 100 } })).toEqual({
      alerts: [0, 1, 2, 3, 4],
      total: 7,
      truncated: true,
      more: '5 of 7 here; every one: list_alerts {"limit":100} and its next_cursor',
    });
    expect(capList('alerts', rows, 10, { tool: 'list_alerts', args: {} })).toEqual({
      alerts: rows,
      total: 7,
      truncated: false,
    });
  });

  it('every listing resource says its total beside its rows', async () => {
    const listing: [string, string][] = [
      ['day2://alerts', 'alerts'],
      ['day2://credentials', 'credentials'],
      [`day2://deployments/${prod}`, 'deployments'],
      ['day2://incidents', 'incidents'],
      ['day2://approvals/pending', 'pending'],
    ];
    for (const [uri, key] of listing) {
      const read = await agent.readResource({ uri });
      const json = JSON.parse((read.contents[0] as { text: string }).text) as Obj;
      expect({ uri, total: json.total, truncated: json.truncated }).toEqual({
        uri,
        total: (json[key] as unknown[]).length,
        truncated: false,
      });
    }
  });
});
