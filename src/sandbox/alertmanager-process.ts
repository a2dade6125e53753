import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOnLoopback, type LocalService } from './local-service.js';

export const ALERTMANAGER_BINARY = '/usr/bin/prometheus-alertmanager';

export interface AlertmanagerProcessOptions {
  /** Port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Path of the binary (default /usr/bin/prometheus-alertmanager, the Debian package's). */
  binary?: string;
  /** Full alertmanager.yml to use instead of the minimal one (a single null receiver). */
  config?: string;
  /** How long to wait for /-/ready (default 20 s). */
  readyTimeoutMs?: number;
}

/** Alertmanager's API is under `${url}/api/v2`. */
export type AlertmanagerProcess = LocalService;

const MINIMAL_CONFIG = `route:
  receiver: 'null'
  group_wait: 1s
receivers:
  - name: 'null'
`;

/** Thrown when the Alertmanager binary is not installed. */
export class AlertmanagerMissingError extends Error {
  constructor(binary: string) {
    super(
      `Prometheus Alertmanager is not installed (${binary} not found): run \`apt-get install prometheus-alertmanager\``,
    );
    this.name = 'AlertmanagerMissingError';
  }
}

/**
 * Starts the real Prometheus Alertmanager on a loopback port with a temporary storage folder,
 * clustering switched off and a minimal configuration, and waits until it reports ready. Used by
 * the tests and by `day2 serve --sandbox`.
 */
export async function startAlertmanager(opts: AlertmanagerProcessOptions = {}): Promise<AlertmanagerProcess> {
  const binary = opts.binary ?? ALERTMANAGER_BINARY;
  if (!existsSync(binary)) throw new AlertmanagerMissingError(binary);
  const dir = await mkdtemp(join(tmpdir(), 'day2-alertmanager-'));
  const configFile = join(dir, 'alertmanager.yml');
  await writeFile(configFile, opts.config ?? MINIMAL_CONFIG);

  return startOnLoopback({
    what: 'Alertmanager',
    dir,
    port: opts.port,
    readyPath: '/-/ready',
    readyTimeoutMs: opts.readyTimeoutMs ?? 20_000,
    spawn: (port) =>
      spawn(
        binary,
        [
          `--config.file=${configFile}`,
          `--storage.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
      ),
  });
}
