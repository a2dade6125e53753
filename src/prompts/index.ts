import type { PromptDefinition } from './define-prompt.js';
import { incidentTriagePrompt } from './incident-triage.js';
import { postmortemPrompt } from './postmortem.js';

/** Runbook prompts. */
export const allPrompts: readonly PromptDefinition[] = [incidentTriagePrompt, postmortemPrompt];
