import { triageService } from './triage-service.js';
import { readLogs } from './read-logs.js';
import { silenceAlert } from './silence-alert.js';
import { scheduleDowntime } from './schedule-downtime.js';
import { muteService } from './mute-service.js';
import { endSilence } from './end-silence.js';
import { rollbackDeployment } from './rollback-deployment.js';
import { restartDeployment } from './restart-deployment.js';
import { openIncident } from './open-incident.js';
import { updateIncident } from './update-incident.js';
import { resolveIncident } from './resolve-incident.js';

/** Incident response: triage, mitigation (governed writes) and day2's incident records. */
export const incidentTools = [
  triageService,
  readLogs,
  silenceAlert,
  scheduleDowntime,
  muteService,
  endSilence,
  rollbackDeployment,
  restartDeployment,
  openIncident,
  updateIncident,
  resolveIncident,
];
