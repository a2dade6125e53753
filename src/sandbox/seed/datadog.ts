import { imageWithoutDigest } from '../fleet-schema.js';
import type { Fleet } from '../fleet-schema.js';
import type { EventSeed, MonitorSeed } from '../datadog/index.js';

/**
 * Fleet → Datadog emulator seeds for one organisation shared by every environment: the fleet's
 * monitors (tagged `env:<env>` by the fleet), and a deployment event for every rollout the
 * fleet records, so that "what changed recently" has an answer.
 */
export function datadogSeeds(fleet: Fleet): { monitors: MonitorSeed[]; events: EventSeed[] } {
  const monitors: MonitorSeed[] = [];
  const events: EventSeed[] = [];
  for (const [envName, env] of Object.entries(fleet.environments)) {
    for (const m of env.monitors) {
      const tags = m.tags.includes(`env:${envName}`) ? [...m.tags] : [...m.tags, `env:${envName}`];
      monitors.push({
        id: m.id,
        name: m.name,
        type: m.type,
        query: m.query,
        message: m.message,
        tags,
        priority: m.priority ?? null,
        options: { thresholds: { ...m.thresholds } },
        overall_state: m.overall_state,
        overall_state_modified: (m.state_since ?? m.created).toISOString(),
        created: m.created.toISOString(),
      });
    }
    for (const d of env.deployments) {
      const service = d.labels['app.kubernetes.io/name'] ?? d.name;
      const revisions = [
        { revision: d.revision, image: d.image, deployed: d.deployed, change_cause: d.change_cause },
        ...d.history,
      ];
      for (const r of revisions) {
        const version = imageWithoutDigest(r.image).split(':').pop() ?? r.image;
        events.push({
          title: `Deployed ${service} ${version} to ${envName}`,
          message: `${d.namespace}/${d.name} revision ${r.revision}: ${r.image}${r.change_cause ? ` (${r.change_cause})` : ''}`,
          tags: [
            `service:${service}`,
            `env:${envName}`,
            `kube_namespace:${d.namespace}`,
            `kube_deployment:${d.name}`,
            `version:${version}`,
          ],
          timestamp: r.deployed.toISOString(),
          service,
          status: 'info',
          source: 'kubernetes',
          aggregation_key: `${envName}/${d.namespace}/${d.name}`,
        });
      }
    }
  }
  return { monitors, events };
}
