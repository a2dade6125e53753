import type { AnyTool } from '../contract/define-tool.js';
import { approvalTools } from './approvals/index.js';
import { contextTools } from './context/index.js';
import { databaseTools } from './database/index.js';
import { incidentTools } from './incidents/index.js';
import { accessTools } from './access/index.js';
import { secretTools } from './secrets/index.js';
import { deployTools } from './deploys/index.js';
import { costTools } from './cost/index.js';

/** Every tool day2 has, in tools/list order. Each toolset's index.ts registers its members. */
export const allTools: readonly AnyTool[] = [
  ...contextTools,
  ...incidentTools,
  ...secretTools,
  ...deployTools,
  ...databaseTools,
  ...accessTools,
  ...costTools,
  ...approvalTools,
];
