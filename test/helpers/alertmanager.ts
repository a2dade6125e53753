import {
  startAlertmanager as start,
  type AlertmanagerProcess,
} from '../../src/sandbox/alertmanager-process.js';

export type { AlertmanagerProcess };

/**
 * Starts the real Alertmanager for a test file (free loopback port, temporary storage). Throws a
 * clear error asking for `apt-get install prometheus-alertmanager` when the binary is absent.
 */
export function startAlertmanager(opts: { port?: number } = {}): Promise<AlertmanagerProcess> {
  return start(opts);
}
