import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { annotationsFor, type AnyTool } from './tools/define-tool.js';
import { inputSchemaOf } from './guards/governed-call.js';
import { writeStatusField } from './tools/fields.js';

/** Which tools a session sees: `--read-only` drops writes (decided from each tool's own effect). */
export interface ToolSelection {
  readOnly?: boolean;
  toolsets?: readonly string[];
}

/** Toolsets every session gets, whatever --toolsets says: the approval flow depends on them. */
export const ALWAYS_ON_TOOLSETS = ['approvals'];

export function selectTools(all: readonly AnyTool[], sel: ToolSelection): AnyTool[] {
  return all.filter(
    (t) =>
      !(sel.readOnly && t.effect === 'write') &&
      (!sel.toolsets?.length || sel.toolsets.includes(t.toolset) || ALWAYS_ON_TOOLSETS.includes(t.toolset)),
  );
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
    expires_at: z.string().optional(),
    approve_with: z.string().optional(),
    result: z.object(tool.output).optional(),
  });
}

export function outputSchemaOf(tool: AnyTool): z.ZodObject {
  return tool.effect === 'write' ? writeOutputSchema(tool) : z.object(tool.output);
}

const definitionCache = new WeakMap<AnyTool, Tool>();

/**
 * The tools/list entry of a tool, computed once and kept small: the model's context pays for every
 * byte of every tool on every turn. Input schemas keep types, enums, bounds and descriptions; output
 * schemas name the fields a result always has (the full shape is enforced server-side).
 */
export function toolDefinition(tool: AnyTool): Tool {
  let def = definitionCache.get(tool);
  if (!def) {
    def = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: compactInput(jsonSchema(inputSchemaOf(tool), 'input')) as Tool['inputSchema'],
      outputSchema: shallowOutput(jsonSchema(outputSchemaOf(tool), 'output')) as Tool['outputSchema'],
      annotations: annotationsFor(tool),
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

/** Drops what costs bytes and tells a model nothing: closed-object flags, `minLength: 1`. */
function compactInput(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compactInput);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  const hasFormat = typeof (node as Json).format === 'string';
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'pattern' && hasFormat) continue; // `format: date-time` says it; the regex is for the server
    if (k === 'additionalProperties' && v === false) continue;
    if (k === 'minLength' && v === 1) continue;
    if (k === 'propertyNames') continue;
    // Length and size caps are enforced on the server; they only cost the model tokens.
    if (k === 'maxLength' || k === 'maxItems') continue;
    if (k === 'maximum' && v === Number.MAX_SAFE_INTEGER) continue;
    out[k] = compactInput(v);
  }
  return out;
}

/**
 * The output contract as the model needs it: an object and the fields it always has. The full
 * shape is enforced on the server (every result is built from the tool's zod output schema).
 */
function shallowOutput(js: Json): Json {
  const out: Json = { type: 'object' };
  if (Array.isArray(js.required) && js.required.length) out.required = js.required;
  return out;
}
