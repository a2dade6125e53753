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

/** The tools/list entry of a tool, computed once. */
export function toolDefinition(tool: AnyTool): Tool {
  let def = definitionCache.get(tool);
  if (!def) {
    def = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: jsonSchema(inputSchemaOf(tool), 'input') as Tool['inputSchema'],
      outputSchema: jsonSchema(outputSchemaOf(tool), 'output') as Tool['outputSchema'],
      annotations: annotationsFor(tool),
    };
    definitionCache.set(tool, def);
  }
  return def;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete js.$schema;
  return js;
}
