import type { AnyTool } from '../../contract/define-tool.js';
import { costReport } from './cost-report.js';
import { day2Backlog } from './day2-backlog.js';
import { scaleIdleToZero } from './scale-idle-to-zero.js';

/** The cost & planning toolset: cost report, scale idle to zero, the Day-2 backlog. */
export const costTools: readonly AnyTool[] = [costReport, scaleIdleToZero, day2Backlog];

export { costReport, scaleIdleToZero, day2Backlog };
