import { environmentConfig } from '../../config/lookup.js';
import type { Deps } from '../../contract/deps.js';
import { gapReason } from '../context/gather.js';
import type { IncidentState } from '../../providers/datadog/types.js';
import type { IncidentMirror, IncidentRecord, IncidentSeverity, IncidentStatus } from './incident-record.js';

/** Whether the environment asks for incidents to be mirrored to Datadog (`datadog.mirror_incidents`). */
export function mirrorsIncidents(deps: Deps, env: string): boolean {
  return (
    environmentConfig(deps.config, env)?.datadog?.mirror_incidents === true &&
    deps.backends.has(env, 'datadog')
  );
}

const SEVERITY: Record<IncidentSeverity, string> = {
  sev1: 'SEV-1',
  sev2: 'SEV-2',
  sev3: 'SEV-3',
  sev4: 'SEV-4',
  sev5: 'SEV-5',
};
const STATE: Record<IncidentStatus, IncidentState> = {
  investigating: 'active',
  identified: 'active',
  mitigated: 'stable',
  resolved: 'resolved',
};

/**
 * Creates the Datadog incident for a new record. Mirroring never blocks day2's own record: a
 * failure is kept on the mirror (and reported) and the record stands.
 */
export async function mirrorOpen(deps: Deps, inc: IncidentRecord): Promise<IncidentMirror | undefined> {
  if (!mirrorsIncidents(deps, inc.env)) return undefined;
  try {
    const dd = await deps.backends.datadog(inc.env).createIncident({
      title: inc.title,
      severity: SEVERITY[inc.severity],
      summary: inc.summary,
      services: [inc.service],
      customerImpacted: inc.severity === 'sev1' || inc.severity === 'sev2',
    });
    return { provider: 'datadog', id: dd.id, public_id: dd.publicId };
  } catch (err) {
    return { provider: 'datadog', error: gapReason(err) };
  }
}

/** Carries a status, severity or summary change to the mirrored Datadog incident, if there is one. */
export async function mirrorUpdate(deps: Deps, inc: IncidentRecord): Promise<IncidentMirror | undefined> {
  if (!inc.mirror) return mirrorOpen(deps, inc);
  if (!inc.mirror.id) return mirrorOpen(deps, inc);
  try {
    await deps.backends.datadog(inc.env).updateIncident(inc.mirror.id, {
      state: STATE[inc.status],
      severity: SEVERITY[inc.severity],
      ...(inc.summary !== undefined ? { summary: inc.summary } : {}),
    });
    return { provider: 'datadog', id: inc.mirror.id, public_id: inc.mirror.public_id };
  } catch (err) {
    return { ...inc.mirror, error: gapReason(err) };
  }
}
