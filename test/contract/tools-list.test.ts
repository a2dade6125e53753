import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { OwnedRuntime } from '../../src/server/build-runtime.js';
import { allTools } from '../../src/tools/index.js';
import { allPrompts } from '../../src/prompts/index.js';
import { outputSchemaOf } from '../../src/server/tool-catalog.js';
import { servedToolsets, TOOLSETS } from '../../src/core/toolsets.js';
import { README_PATH, withGeneratedTables } from '../../scripts/tool-table.js';
import { inMemoryClient, testRuntime } from '../fixtures/in-memory.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { makeTestTools } from '../fixtures/test-tools.js';

describe('tools/list contract', () => {
  let t: TestEnv;
  let rt: OwnedRuntime;
  let client: Client;

  beforeAll(async () => {
    t = makeTestEnv();
    rt = await testRuntime(t, allTools);
    client = await inMemoryClient(rt);
  });
  afterAll(async () => {
    await client?.close();
    await rt?.close();
    t?.cleanup();
  });

  it('matches the committed snapshot', async () => {
    const { tools } = await client.listTools();
    // A changed tool definition is a contract change: review the diff, then run vitest -u.
    await expect(JSON.stringify(tools, null, 2) + '\n').toMatchFileSnapshot('__snapshots__/tools-list.json');
  });

  it('every tool declares a toolset, an effect, a description and an output schema', async () => {
    const listed = new Map((await client.listTools()).tools.map((x) => [x.name, x]));
    expect(listed.size).toBe(allTools.length);
    for (const tool of allTools) {
      expect(tool.toolset, tool.name).toMatch(/^[a-z][a-z_]*$/);
      expect(['read', 'record', 'write'], tool.name).toContain(tool.effect);
      expect(['low', 'high', 'critical'], tool.name).toContain(tool.risk);
      expect(tool.name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect(tool.description.length, tool.name).toBeGreaterThan(20);
      const def = listed.get(tool.name);
      // tools/list leaves out the title (hosts show the name) and the output schema (bytes in every
      // session's context); the declared output schema names the fields every result has, and
      // structuredContent carries them.
      expect(tool.title.length, tool.name).toBeGreaterThan(3);
      expect(Object.keys(def ?? {}).sort(), tool.name).toEqual(
        ['annotations', 'description', 'inputSchema', 'name'].filter(
          (k) => k !== 'annotations' || def?.annotations,
        ),
      );
      const required = z.toJSONSchema(outputSchemaOf(tool), {
        io: 'output',
        unrepresentable: 'any',
      }).required;
      expect(required, tool.name).toEqual(
        tool.effect === 'write' ? ['status'] : expect.arrayContaining([expect.any(String)]),
      );
      expect(def?.annotations?.readOnlyHint === true, tool.name).toBe(tool.effect === 'read');
    }
  });

  it('keeps the default toolsets within 450 bytes per tool, the size every session pays for', async () => {
    // A size, not a speed: deterministic, so it belongs here as well as in the bench.
    const narrowed = await inMemoryClient(rt, { toolsets: servedToolsets(undefined) });
    try {
      const { tools } = await narrowed.listTools();
      expect(tools.length).toBeGreaterThan(10);
      expect(Buffer.byteLength(JSON.stringify(tools)) / tools.length).toBeLessThanOrEqual(450);
    } finally {
      await narrowed.close();
    }
  });

  it('a narrowed session lists only the prompts of its toolsets, and says why a tool or prompt is not served', async () => {
    const narrowed = await inMemoryClient(rt, { toolsets: servedToolsets(undefined) });
    const everything = await inMemoryClient(rt, {});
    try {
      const names = (await narrowed.listPrompts()).prompts.map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['incident-triage', 'postmortem']));
      expect(names).not.toContain('rotate-credentials');
      expect((await everything.listPrompts()).prompts.map((p) => p.name)).toContain('rotate-credentials');
      const off =
        'is not served: it belongs to the toolset secrets, which is off here; the operator turns it on with day2 serve --toolsets secrets (or --toolsets all).';
      await expect(narrowed.callTool({ name: 'rotate_credential', arguments: {} })).rejects.toThrow(
        `rotate_credential ${off}`,
      );
      await expect(
        narrowed.getPrompt({ name: 'rotate-credentials', arguments: { env: 'prod' } }),
      ).rejects.toThrow(`rotate-credentials ${off}`);
      await expect(narrowed.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(
        'Unknown tool: no_such_tool. Call tools/list to see the tools.',
      );
    } finally {
      await narrowed.close();
      await everything.close();
    }
  });

  it('names every toolset of the registry in TOOLSETS, which --toolsets and day2.yaml check against', () => {
    expect([...new Set(allTools.map((t) => t.toolset))].sort()).toEqual([...TOOLSETS].sort());
    for (const p of allPrompts) expect(TOOLSETS as readonly string[], p.name).toContain(p.toolset);
  });

  it('read-only mode lists no tool that writes outside day2: no write, no record that mirrors out', async () => {
    const tools = [...allTools, ...makeTestTools(t.backendFile)];
    const withWrites = await testRuntime(t, tools);
    try {
      const full = await inMemoryClient(withWrites);
      const readOnly = await inMemoryClient(withWrites, { readOnly: true });
      const writes = tools.filter((x) => x.effect === 'write').map((x) => x.name);
      expect(writes.length).toBeGreaterThan(0);
      const mirrors = tools.filter((x) => x.effect === 'record' && x.mirrorsTo).map((x) => x.name);
      expect(mirrors).toEqual(
        expect.arrayContaining(['open_incident', 'update_incident', 'resolve_incident']),
      );
      const fullNames = (await full.listTools()).tools.map((x) => x.name);
      const roNames = (await readOnly.listTools()).tools.map((x) => x.name);
      expect(fullNames).toEqual(expect.arrayContaining(writes));
      for (const w of [...writes, ...mirrors]) expect(roNames).not.toContain(w);
      expect(roNames.length).toBe(tools.length - writes.length - mirrors.length);
      // Not listed means not callable either.
      await expect(readOnly.callTool({ name: writes[0]!, arguments: {} })).rejects.toThrow(
        `${writes[0]} is not served: this server runs read-only and ${writes[0]} changes a production system.`,
      );
      await expect(readOnly.callTool({ name: 'open_incident', arguments: {} })).rejects.toThrow(
        'open_incident is not served: this server runs read-only and open_incident also writes to Datadog incidents',
      );
      await full.close();
      await readOnly.close();
    } finally {
      await withWrites.close();
    }
  });

  it('the README tool, resource and prompt tables are generated from the registry and current', async () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(await withGeneratedTables(readme), 'README.md is stale: run npm run tools:readme').toBe(readme);
  });
});
