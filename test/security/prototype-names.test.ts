import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { inputSchemaOf } from '../../src/guards/governed-call.js';
import type { AnyTool } from '../../src/contract/define-tool.js';
import { startSandboxHarness, type SandboxHarness } from '../fixtures/sandbox-harness.js';

/** Names that are members of every plain object's prototype: a lookup keyed by them must miss. */
const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
];

/**
 * Arguments for `tool` where every free-text field is `name`, and every other required field
 * takes the simplest value its schema accepts, so that the call gets as far as its lookups.
 */
function argsWith(tool: AnyTool, name: string, pick: (n: number) => number): Record<string, unknown> {
  const schema = z.toJSONSchema(inputSchemaOf(tool), { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Prop>;
  };
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (key === 'approval_token' || key === 'dry_run') continue;
    const v = valueFor(prop, name, pick);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

interface Prop {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  pattern?: string;
  anyOf?: Prop[];
  items?: Prop;
}

function valueFor(p: Prop, name: string, pick: (n: number) => number): unknown {
  if (p.enum?.length) return p.enum[pick(p.enum.length)];
  if (p.anyOf?.length) return valueFor(p.anyOf[0]!, name, pick);
  const type = Array.isArray(p.type) ? p.type[0] : p.type;
  switch (type) {
    case 'string':
      return name;
    case 'integer':
    case 'number':
      return p.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return p.items ? [valueFor(p.items, name, pick)] : [];
    default:
      return undefined;
  }
}

// Environment, service, database, secret, namespace... names come from the model. Every lookup keyed
// by one must be prototype-safe: "constructor" is an unknown environment, not an internal error.
describe('names that are Object.prototype members', () => {
  let h: SandboxHarness;
  let client: Client;

  beforeAll(async () => {
    h = await startSandboxHarness({ alertmanager: false });
    client = await h.connect('agent-proto');
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('get a clear error or an answer from every tool, never an internal error', async () => {
    const tools = h.rt.tools;
    const internal: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tools),
        fc.constantFrom(...PROTOTYPE_NAMES),
        fc.integer({ min: 0, max: 1000 }),
        async (tool, name, seed) => {
          const args = argsWith(tool, name, (n) => seed % n);
          const r = (await client.callTool({ name: tool.name, arguments: args })) as CallToolResult;
          const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
          if (/internal error/i.test(text)) internal.push(`${tool.name} ${JSON.stringify(args)}: ${text}`);
        },
      ),
      { numRuns: tools.length * 12 },
    );
    expect(internal).toEqual([]);
  }, 300_000);

  it('refuses an environment named constructor in backup_database and run_migration by name', async () => {
    for (const [tool, extra] of [
      ['backup_database', { database: 'orders' }],
      ['run_migration', { database: 'orders' }],
    ] as const) {
      for (const env of PROTOTYPE_NAMES) {
        const r = (await client.callTool({ name: tool, arguments: { env, ...extra } })) as CallToolResult;
        expect(r.isError, `${tool} in ${env}`).toBe(true);
        expect(r.content[0]).toMatchObject({ text: expect.stringContaining(`unknown environment "${env}"`) });
      }
    }
  });
});
