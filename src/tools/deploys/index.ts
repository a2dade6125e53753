import type { AnyTool } from '../../contract/define-tool.js';
import { capacityReport } from './capacity-report.js';
import { detectDrift } from './detect-drift.js';
import { patchReport } from './patch-report.js';
import { planCapacity } from './plan-capacity.js';
import { promoteVersion } from './promote-version.js';
import { remediateDrift } from './remediate-drift.js';
import { releaseHold } from './release-hold.js';
import { scaleDeployment } from './scale-deployment.js';
import { setAutoscaling } from './set-autoscaling.js';
import { setResources } from './set-resources.js';
import { updateImage } from './update-image.js';

/** The deploys toolset: scaling, deploys and patching, configuration drift. Reads first, then writes. */
export const deployTools: AnyTool[] = [
  capacityReport,
  planCapacity,
  patchReport,
  detectDrift,
  scaleDeployment,
  setAutoscaling,
  updateImage,
  setResources,
  promoteVersion,
  remediateDrift,
  releaseHold,
];
