import { getService } from './get-service.js';
import { dependencyImpactTool } from './dependency-impact.js';
import { listAlerts } from './list-alerts.js';
import { listDeployments } from './list-deployments.js';
import { listChanges } from './list-changes.js';

/** Day-2 context: what is true now, before anything is changed. */
export const contextTools = [getService, dependencyImpactTool, listAlerts, listDeployments, listChanges];
