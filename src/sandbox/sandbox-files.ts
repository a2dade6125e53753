import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { kubeconfigYaml } from './kubernetes/kubeconfig-file.js';
import { fleetWorkloads } from './load-fleet.js';
import type { Sandbox } from './start-sandbox.js';

/** The files `day2 sandbox` writes, absolute paths. */
export interface SandboxFiles {
  /** day2.yaml: every environment's backends, the fleet's catalog and rotation policy. */
  config: string;
  /** One kubeconfig per environment (context `sandbox-<env>`). */
  kubeconfigs: Record<string, string>;
  /** sandbox.env: the credentials (DD_API_KEY, AWS_ACCESS_KEY_ID, ...) and endpoints, as `NAME=value` lines. */
  env: string;
  /**
   * workloads.json: the fleet's Deployments with their labels, which `serve --sandbox` merges into
   * the catalog (a server on real clusters reads them live), so that it need not parse the fleet.
   */
  workloads: string;
  /**
   * The fleet's catalog files, relative to the fleet's folder, as `serve --sandbox` loads them (so
   * that a service's `sources` read as in the fleet, not as paths on this machine).
   */
  catalog: { dir: string; paths: string[] };
}

/** The line `day2 sandbox` prints on stdout once it serves: how a parent knows it is ready. */
export interface SandboxReady {
  ready: true;
  pid: number;
  dir: string;
  /** day2.yaml for `day2 serve --config`. */
  config: string;
  /** sandbox.env: the credentials day2 serve (or any client) needs, `NAME=value` lines. */
  env: string;
  kubeconfigs: Record<string, string>;
  /** workloads.json: the fleet's Deployments and their labels. */
  workloads: string;
  /** The fleet's catalog files, relative to `dir`. */
  catalog: { dir: string; paths: string[] };
}

/** The variables a client of the sandbox needs beside day2.yaml: keys for the emulators, endpoints. */
export function sandboxEnvironment(sandbox: Sandbox): Record<string, string> {
  const { datadog, aws } = sandbox.credentials;
  const first = Object.values(sandbox.environments)[0];
  return {
    DD_API_KEY: datadog.apiKey,
    DD_APP_KEY: datadog.appKey,
    AWS_ACCESS_KEY_ID: aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
    ...(first?.aws ? { AWS_REGION: first.aws.region } : {}),
    ...(first?.aws?.endpoint ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: first.aws.endpoint } : {}),
    ...(first?.datadog?.base_url ? { DAY2_SANDBOX_DATADOG_URL: first.datadog.base_url } : {}),
  };
}

/**
 * Writes what a client needs to connect to a running sandbox into `dir`: a kubeconfig per
 * environment (HTTPS URL, CA data, bearer token), day2.yaml naming them and every other endpoint,
 * and sandbox.env with the credentials. Files holding secrets are mode 0600.
 */
export async function writeSandboxFiles(sandbox: Sandbox, dir: string): Promise<SandboxFiles> {
  const kubeconfigs: Record<string, string> = {};
  const environments: Record<string, unknown> = {};
  for (const [env, config] of Object.entries(sandbox.environments)) {
    const k = sandbox.emulators.kubernetes[env];
    if (!k) continue;
    const name = `sandbox-${env}`;
    const path = join(dir, `kubeconfig-${env}.yaml`);
    const namespaces = config.kubernetes?.namespaces ?? ['default'];
    await writeFile(
      path,
      kubeconfigYaml({ name, server: k.url, ca: k.ca, token: k.token, namespace: namespaces[0] }),
      { mode: 0o600 },
    );
    kubeconfigs[env] = path;
    environments[env] = { ...config, kubernetes: { kubeconfig: path, context: name, namespaces } };
  }
  const { fleet, dir: fleetDir } = sandbox.fleet;
  const config = {
    environments,
    catalog: { paths: fleet.catalog.map((p) => resolve(fleetDir, p)) },
    // day2 serve --sandbox reads the fleet's catalog from here, with its workloads' labels merged in.
    sandbox: { fleet: sandbox.fleet.file },
    ...(sandbox.rotation ? { rotation: sandbox.rotation } : {}),
  };
  const configPath = join(dir, 'day2.yaml');
  await writeFile(
    configPath,
    `# Written by \`day2 sandbox\` for the fleet ${fleet.name}; valid while that sandbox runs.\n# Credentials are in sandbox.env beside this file.\n${stringify(config)}`,
  );
  const envPath = join(dir, 'sandbox.env');
  const lines = Object.entries(sandboxEnvironment(sandbox)).map(([k, v]) => `${k}=${v}`);
  await writeFile(envPath, `${lines.join('\n')}\n`, { mode: 0o600 });
  const workloadsPath = join(dir, 'workloads.json');
  await writeFile(workloadsPath, JSON.stringify(fleetWorkloads(fleet)));
  return {
    config: configPath,
    kubeconfigs,
    env: envPath,
    workloads: workloadsPath,
    catalog: { dir: fleetDir, paths: fleet.catalog },
  };
}
