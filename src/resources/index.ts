import type { ResourceDefinition } from '../contract/define-resource.js';
import { approvalsPending } from './approvals-pending.js';
import { incidentResources } from './incident-resources.js';
import { backlogResource } from './backlog-resource.js';
import { credentialsResource } from './credentials-resource.js';
import { auditRecent, auditRecentAll } from './audit-recent.js';
import {
  alertsResource,
  changesResource,
  deploymentsResource,
  graphResource,
  serviceResource,
  servicesResource,
} from './context-resources.js';

/** Every resource and resource template day2 serves. */
export const allResources: readonly ResourceDefinition[] = [
  servicesResource,
  serviceResource,
  graphResource,
  alertsResource,
  deploymentsResource,
  changesResource,
  credentialsResource,
  ...incidentResources,
  backlogResource,
  approvalsPending,
  auditRecent,
  auditRecentAll,
];
