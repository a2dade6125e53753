import type { AnyTool } from '../contract/define-tool.js';
import type { ResourceDefinition } from '../contract/define-resource.js';
import type { PromptDefinition } from '../contract/define-prompt.js';

/** Everything day2 serves: tools, resources and prompts. */
export interface Registry {
  tools: readonly AnyTool[];
  resources: readonly ResourceDefinition[];
  prompts: readonly PromptDefinition[];
}

/**
 * Loads the registry. Dynamic on purpose: the tool modules and their schemas are most of
 * day2's start-up, and a stdio server answers initialize before it needs them.
 */
export async function loadRegistry(extraTools: readonly AnyTool[] = []): Promise<Registry> {
  const [{ allTools }, { allResources }, { allPrompts }] = await Promise.all([
    import('../tools/index.js'),
    import('../resources/index.js'),
    import('../prompts/index.js'),
  ]);
  return { tools: [...allTools, ...extraTools], resources: allResources, prompts: allPrompts };
}
