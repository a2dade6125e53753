import type { PromptDefinition } from '../contract/define-prompt.js';
import { incidentTriagePrompt } from './incident-triage.js';
import { postmortemPrompt } from './postmortem.js';
import { rotateCredentialsPrompt } from './rotate-credentials.js';

/** Runbook prompts. */
export const allPrompts: readonly PromptDefinition[] = [
  incidentTriagePrompt,
  postmortemPrompt,
  rotateCredentialsPrompt,
];
