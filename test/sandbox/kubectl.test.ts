import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';
import { kubeconfigYaml } from '../../src/sandbox/kubernetes/kubeconfig-file.js';
import { issueServingTls } from '../../src/sandbox/kubernetes/tls.js';
import { builtinFleetPath, loadFleet } from '../../src/sandbox/load-fleet.js';
import { crashMessages, errorMessages, kubernetesObjects } from '../../src/sandbox/seed/kubernetes.js';

/**
 * Anyone's Kubernetes tools reach the sandbox: the real kubectl (v1.32 on these machines) and
 * @kubernetes/client-node read a kubeconfig with the emulator's HTTPS URL, its CA and a bearer
 * token, and verify the server's certificate against that CA.
 */
const run = promisify(execFile);
let k: KubernetesEmulator;
let dir: string;
let kubeconfig: string;

function writeKubeconfig(name: string, over: { token?: string; ca?: string | undefined } = {}): string {
  const path = join(dir, name);
  const target = { name: 'sandbox-prod', server: k.url, ca: k.ca, token: k.token, namespace: 'checkout' };
  writeFileSync(path, kubeconfigYaml({ ...target, ...over }), { mode: 0o600 });
  return path;
}

async function kubectl(
  config: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', config, ...args], {
      env: { PATH: process.env.PATH, HOME: dir },
      timeout: 20_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

beforeAll(async () => {
  const loaded = await loadFleet(builtinFleetPath());
  const fleet = loaded.fleet;
  k = await startKubernetesEmulator({
    objects: kubernetesObjects('prod', fleet.environments.prod!, loaded.now),
    crashMessages: crashMessages(fleet),
    errorMessages: errorMessages(fleet),
    tls: await issueServingTls(),
  });
  dir = mkdtempSync(join(tmpdir(), 'day2-kubectl-test-'));
  kubeconfig = writeKubeconfig('kubeconfig');
});

afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against the sandbox', () => {
  it('serves HTTPS', () => {
    expect(k.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('get lists deployments, pods and replica sets', async () => {
    const deploys = await kubectl(kubeconfig, 'get', 'deployments');
    expect(deploys.err).toBe('');
    expect(deploys.out).toMatch(/^checkout\s/m);
    expect(deploys.out).toMatch(/^cart\s/m);
    const pods = await kubectl(kubeconfig, 'get', 'pods', '-n', 'checkout', '-o', 'name');
    expect(pods.out).toMatch(/^pod\/checkout-[a-z0-9]+-[a-z0-9]+$/m);
    const json = await kubectl(kubeconfig, 'get', 'deployment', 'checkout', '-o', 'json');
    expect((JSON.parse(json.out) as { spec: { replicas: number } }).spec.replicas).toBeGreaterThan(0);
    const rs = await kubectl(kubeconfig, 'get', 'rs', '-l', 'app.kubernetes.io/name=checkout', '-o', 'name');
    expect(rs.out.trim().split('\n').length).toBeGreaterThan(1);
  });

  it('describe shows the deployment with its replica sets', async () => {
    const r = await kubectl(kubeconfig, 'describe', 'deployment', 'checkout');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Name:\s+checkout$/m);
    expect(r.out).toMatch(/^NewReplicaSet:\s+checkout-[a-z0-9]+ \(\d+\/\d+ replicas created\)$/m);
  });

  it('rollout history lists revisions with their change cause', async () => {
    const r = await kubectl(kubeconfig, 'rollout', 'history', 'deployment/checkout');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(r.out).toMatch(/^14\s+argocd: sync checkout 2\.8\.0/m);
    const one = await kubectl(kubeconfig, 'rollout', 'history', 'deployment/checkout', '--revision=13');
    expect(one.out).toContain('app.kubernetes.io/version=2.7.3');
  });

  it('logs reads a pod of a deployment', async () => {
    const r = await kubectl(kubeconfig, 'logs', 'deployment/checkout', '--tail=2');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toHaveLength(2);
    expect(r.out).toContain('tax engine');
  });

  it('refuses a wrong token, and a client that does not trust the CA refuses the server', async () => {
    const wrong = await kubectl(writeKubeconfig('wrong-token', { token: 'nope' }), 'get', 'deployments');
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toMatch(/Unauthorized|must be logged in/);
    const untrusted = await kubectl(writeKubeconfig('no-ca', { ca: undefined }), 'get', 'deployments');
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.err).toMatch(/certificate/);
  });

  it('@kubernetes/client-node works from the same kubeconfig file, verifying the CA', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    expect(kc.getCurrentCluster()?.skipTLSVerify).toBeFalsy();
    const apps = kc.makeApiClient(AppsV1Api);
    const list = await apps.listNamespacedDeployment({ namespace: 'checkout' });
    expect(list.items.map((d) => d.metadata?.name)).toContain('checkout');
    const untrusted = new KubeConfig();
    untrusted.loadFromFile(writeKubeconfig('no-ca-client', { ca: undefined }));
    const refused = await untrusted
      .makeApiClient(AppsV1Api)
      .listNamespacedDeployment({ namespace: 'checkout' })
      .then(
        () => 'answered',
        (e: Error) => `${e.message}: ${String((e.cause as { code?: string } | undefined)?.code)}`,
      );
    expect(refused).toMatch(
      /fetch failed: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
    );
  });
});
