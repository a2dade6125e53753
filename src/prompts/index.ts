import type { PromptDefinition } from './define-prompt.js';

/** Runbook prompts. */
export const allPrompts: readonly PromptDefinition[] = [];
