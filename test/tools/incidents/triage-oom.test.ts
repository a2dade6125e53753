import { describe, expect, it } from 'vitest';
import type { CatalogService } from '../../../src/catalog/model.js';
import { analyzeTriage } from '../../../src/tools/incidents/triage/analyze.js';
import type { TriageData } from '../../../src/tools/incidents/triage/collect.js';
import type { DeploymentInfo, PodInfo } from '../../../src/providers/kubernetes/types.js';
import { PROPOSED_TOOL_EFFECTS } from '../../../src/tools/incidents/triage-service.js';

// Analysis reads only these of the catalog entry.
const service = { id: 'indexer', owner: 'search-team', runbooks: [] } as unknown as CatalogService;

function deployment(limits: Record<string, string>): DeploymentInfo {
  return {
    namespace: 'search',
    name: 'indexer',
    uid: 'u1',
    resourceVersion: '7',
    generation: 3,
    observedGeneration: 3,
    replicas: 2,
    currentReplicas: 2,
    readyReplicas: 1,
    updatedReplicas: 2,
    availableReplicas: 1,
    images: [{ container: 'indexer', image: 'registry.local/indexer:2.0' }],
    revision: 3,
    labels: {},
    annotations: {},
    selector: 'app=indexer',
    conditions: [],
    resources: [{ container: 'indexer', requests: { cpu: '500m', memory: '512Mi' }, limits }],
  };
}

const oomPod: PodInfo = {
  namespace: 'search',
  name: 'indexer-abc-1',
  phase: 'Running',
  ready: false,
  labels: { app: 'indexer' },
  restarts: 6,
  containers: [
    {
      name: 'indexer',
      image: 'registry.local/indexer:2.0',
      ready: false,
      restartCount: 6,
      lastTerminationReason: 'OOMKilled',
    },
  ],
};

const data = (d: DeploymentInfo): TriageData => ({
  service,
  names: [service.id],
  env: 'prod',
  since: '2026-11-26T08:00:00.000Z',
  now: '2026-11-26T10:00:00.000Z',
  related: [],
  alerts: [],
  deployment: d,
  changes: [],
  pods: [oomPod],
  events: [],
  openIncidents: [],
  gaps: [],
});

const effectOf = (tool: string) => PROPOSED_TOOL_EFFECTS[tool] ?? 'write';

describe('triage of an OOMKilled container', () => {
  it('proposes raising its memory limit, not a restart that brings the same limit back', () => {
    const r = analyzeTriage(data(deployment({ cpu: '1', memory: '1Gi' })), effectOf);
    expect(r.suspects[0]!.cause).toBe('pods:oom');
    expect(r.next_actions[0]).toMatchObject({
      tool: 'set_resources',
      effect: 'write',
      needs_approval: true,
      arguments: { service: 'indexer', env: 'prod', container: 'indexer', limits: { memory: '1536Mi' } },
    });
    expect(r.next_actions[0]!.why).toContain('OOMKilled at its 1Gi memory limit');
    expect(r.next_actions.map((a) => a.tool)).not.toContain('restart_deployment');
  });

  it('raises a small limit by at least 128Mi, and falls back to a restart when there is no limit', () => {
    const small = analyzeTriage(data(deployment({ memory: '128Mi' })), effectOf);
    expect(small.next_actions[0]!.arguments).toMatchObject({ limits: { memory: '256Mi' } });
    const unlimited = analyzeTriage(data(deployment({ cpu: '1' })), effectOf);
    expect(unlimited.next_actions[0]!.tool).toBe('restart_deployment');
  });
});
