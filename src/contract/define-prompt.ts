import type { z } from 'zod';
import type { Deps } from './deps.js';

/** A runbook prompt: arguments in, messages out. Prompts only guide; they call nothing. */
export interface PromptDefinition<
  A extends Record<string, z.ZodType<string | undefined>> = Record<string, z.ZodType<string | undefined>>,
> {
  name: string;
  title: string;
  description: string;
  /** The toolset whose tools the prompt walks through: a session that does not serve it lists no such prompt. */
  toolset: string;
  args: A;
  /**
   * The messages for these arguments. Names in them go through `deps.catalog.resolver`, so that the
   * prompt names what the tools will; a ToolError (an unknown name) is the client's invalid params.
   */
  messages(
    args: { [K in keyof A]: z.infer<A[K]> },
    deps: Pick<Deps, 'catalog'>,
  ): { role: 'user' | 'assistant'; text: string }[];
}

export function definePrompt<A extends Record<string, z.ZodType<string | undefined>>>(
  p: PromptDefinition<A>,
): PromptDefinition<A> {
  return p;
}
