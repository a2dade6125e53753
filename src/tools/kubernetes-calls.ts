/**
 * Which KubernetesProvider methods each toolset calls, and which are called whatever the
 * toolsets (resources, and the access reaper that revokes expired grants). With the per-method
 * declarations in src/providers/kubernetes/api-calls.ts this gives the RBAC rules a deployment
 * serving some toolsets needs; test/deploy/kubernetes-rbac.test.ts holds both lists to the calls
 * in the code each one reaches.
 */

import type { KubernetesProviderMethod } from '../providers/kubernetes/api-calls.js';
import { ALWAYS_ON_TOOLSETS, type ToolsetName } from '../core/toolsets.js';

/** Provider methods the code of each toolset reaches (its index.ts and everything it imports). */
export const KUBERNETES_METHODS_BY_TOOLSET: Record<ToolsetName, readonly KubernetesProviderMethod[]> = {
  context: ['getDeployment', 'listDeployments', 'listObjects', 'listPods', 'listReplicaSets'],
  approvals: [],
  incidents: [
    'getDeployment',
    'getPodLogs',
    'listDeployments',
    'listEvents',
    'listObjects',
    'listPods',
    'listReplicaSets',
    'restartDeployment',
    'rollbackDeployment',
    'waitForRollout',
  ],
  secrets: ['getDeployment', 'listObjects', 'listSecrets', 'restartDeployment', 'waitForRollout'],
  deploys: [
    'getDeployment',
    'getHpa',
    'getObject',
    'listDeployments',
    'listHpas',
    'listObjects',
    'listPods',
    'listReplicaSets',
    'listResourceQuotas',
    'patchDeployment',
    'podMetrics',
    'rollbackDeployment',
    'scaleDeployment',
    'serverSideApply',
    'setImage',
    'upsertHpa',
  ],
  database: [],
  access: [
    'createRole',
    'createRoleBinding',
    'deleteRole',
    'deleteRoleBinding',
    'getDeployment',
    'listClusterRoleBindings',
    'listRoleBindings',
    'listServices',
  ],
  cost: [
    'listClusterRoleBindings',
    'listConfigMaps',
    'listDeployments',
    'listEndpoints',
    'listHpas',
    'listObjects',
    'listPvcs',
    'listRoleBindings',
    'listSecrets',
    'listServices',
    'patchDeployment',
    'podMetrics',
  ],
};

/**
 * Provider methods called whatever the toolsets: the resources (src/resources, served always)
 * and the access reaper (src/tools/access/reaper.ts, started by every `day2 serve`).
 */
export const KUBERNETES_METHODS_ALWAYS: readonly KubernetesProviderMethod[] = [
  'deleteRole',
  'deleteRoleBinding',
  'listClusterRoleBindings',
  'listConfigMaps',
  'listDeployments',
  'listEndpoints',
  'listHpas',
  'listObjects',
  'listPvcs',
  'listReplicaSets',
  'listRoleBindings',
  'listSecrets',
  'listServices',
  'podMetrics',
];

/** The provider methods a server serving `toolsets` (always-on ones included) may call. */
export function kubernetesMethodsFor(toolsets: readonly string[]): KubernetesProviderMethod[] {
  const served = new Set([...toolsets, ...ALWAYS_ON_TOOLSETS]);
  const methods = new Set(KUBERNETES_METHODS_ALWAYS);
  for (const [toolset, list] of Object.entries(KUBERNETES_METHODS_BY_TOOLSET))
    if (served.has(toolset)) for (const m of list) methods.add(m);
  return [...methods].sort();
}
