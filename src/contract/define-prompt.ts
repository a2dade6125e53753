import type { z } from 'zod';

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
  messages(args: { [K in keyof A]: z.infer<A[K]> }): { role: 'user' | 'assistant'; text: string }[];
}

export function definePrompt<A extends Record<string, z.ZodType<string | undefined>>>(
  p: PromptDefinition<A>,
): PromptDefinition<A> {
  return p;
}
