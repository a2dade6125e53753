import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { annotationsFor, changesOutside, type AnyTool } from '../contract/define-tool.js';
import { inputSchemaOf } from '../guards/governed-call.js';
import { writeStatusField } from '../contract/fields.js';
import { ALWAYS_ON_TOOLSETS } from '../core/toolsets.js';

/**
 * Which tools a session sees: `--read-only` drops writes (decided from each tool's own effect);
 * `toolsets` narrows to those groups plus ALWAYS_ON_TOOLSETS, and no `toolsets` means every tool.
 * `day2 serve`'s defaults are applied before this (see servedToolsets in ./toolsets.ts).
 */
export interface ToolSelection {
  readOnly?: boolean;
  toolsets?: readonly string[];
}

export function selectTools(all: readonly AnyTool[], sel: ToolSelection): AnyTool[] {
  return all.filter((t) => !(sel.readOnly && changesOutside(t)) && toolsetServed(t.toolset, sel));
}

/** Whether a session serves a toolset (its tools, and the prompts that walk through them). */
export function toolsetServed(toolset: string, sel: ToolSelection): boolean {
  return !sel.toolsets?.length || sel.toolsets.includes(toolset) || ALWAYS_ON_TOOLSETS.includes(toolset);
}

/** The governance envelope every write tool returns; `result` holds the tool's own output. */
export function writeOutputSchema(tool: AnyTool): z.ZodObject {
  return z.object({
    status: writeStatusField,
    approval_id: z.string().optional(),
    action_digest: z.string().optional(),
    summary: z.string().optional(),
    plan: z.record(z.string(), z.unknown()).optional(),
    policy: z.record(z.string(), z.unknown()).optional(),
    may_not_approve: z.array(z.string()).optional().describe('principals whose approval does not count'),
    expires_at: z.string().optional(),
    approve_with: z.string().optional(),
    approve_url: z.string().optional().describe('the approval page, where one is served for this rule'),
    result: z.object(tool.output).optional(),
  });
}

export function outputSchemaOf(tool: AnyTool): z.ZodObject {
  return tool.effect === 'write' ? writeOutputSchema(tool) : z.object(tool.output);
}

const definitionCache = new WeakMap<AnyTool, Tool>();

/**
 * The tools/list entry of a tool, computed once and kept small: every byte of every tool reaches
 * every session, on every turn. It is what a model needs to call the tool right: name, description,
 * input schema (types, enums, bounds, defaults and the descriptions that give a format), and the
 * annotations hosts use to gate calls, sent only where a hint differs from the spec's defaults.
 *
 * Left out on purpose: `title` (a host shows the name instead, as the spec says it should; the
 * README's tool table carries titles for people) and `outputSchema`. The whole output schema averages
 * 1.4 KB per tool and the only small one, `{type: "object"}`, tells a client nothing it can use;
 * structuredContent still comes with every result, next to a text rendering, and outputSchemaOf
 * is the shape the handlers are typed against and the test clients check every result against.
 */
export function toolDefinition(tool: AnyTool): Tool {
  let def = definitionCache.get(tool);
  if (!def) {
    const annotations = annotationsFor(tool);
    def = {
      name: tool.name,
      description: tool.description,
      inputSchema: compactInput(jsonSchema(inputSchemaOf(tool), 'input')) as Tool['inputSchema'],
      ...(Object.keys(annotations).length ? { annotations } : {}),
    };
    definitionCache.set(tool, def);
  }
  return def;
}

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const js = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete js.$schema;
  return js;
}

/**
 * Drops what costs bytes and tells a model nothing it needs to call the tool right. Patterns, length
 * and size limits are enforced on the server, whose error names the field and the expected form;
 * where a format matters, the field's description gives an example.
 */
function compactInput(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compactInput);
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'additionalProperties' && v === false) continue;
    if (k === 'pattern' || k === 'propertyNames') continue;
    if (k === 'minLength' || k === 'maxLength' || k === 'minItems' || k === 'maxItems') continue;
    if (k === 'maximum' && v === Number.MAX_SAFE_INTEGER) continue;
    // `.positive()` on an integer: `minimum: 1` says the same in fewer bytes.
    if (k === 'exclusiveMinimum' && v === 0 && obj.type === 'integer') {
      out.minimum = 1;
      continue;
    }
    out[k] = compactInput(v);
  }
  return out;
}
