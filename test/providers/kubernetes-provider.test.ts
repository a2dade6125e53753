import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  ThrottledError,
} from '../../src/providers/errors.js';
import { createKubernetesProvider } from '../../src/providers/kubernetes/create-kubernetes-provider.js';
import type { KubernetesProvider } from '../../src/providers/kubernetes/types.js';
import { deploymentObject } from '../../src/sandbox/kubernetes/builders.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBsandbox\n-----END CERTIFICATE-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let k: KubernetesEmulator;
let p: KubernetesProvider;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  k = await startKubernetesEmulator({
    badImages: ['registry.local/web:broken'],
    crashMessages: { 'registry.local/web:broken': 'panic: DATABASE_URL is not set' },
    objects: [
      {
        ...deploymentObject('shop', 'web', 'registry.local/web:1.0', {
          progressDeadlineSeconds: 3600,
          requests: { cpu: '200m', memory: '256Mi' },
        }),
      },
      deploymentObject('shop', 'api', 'registry.local/api:2.0', { replicas: 3, labels: { tier: 'back' } }),
      deploymentObject('other', 'billing', 'registry.local/billing:1.0'),
      deploymentObject('other', 'canary', 'registry.local/web:1.0', { progressDeadlineSeconds: 60 }),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db-password', namespace: 'shop' },
        type: 'Opaque',
        data: { password: b64('hunter2-very-secret') },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'web-tls', namespace: 'shop' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': b64(CERT), 'tls.key': b64('PRIVATE-KEY-MATERIAL') },
      },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'shop' },
        data: { mode: 'fast' },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web', namespace: 'shop' },
        spec: {
          type: 'ClusterIP',
          clusterIP: '10.96.0.10',
          selector: { app: 'web' },
          ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: 'web', namespace: 'shop' },
        subsets: [{ addresses: [{ ip: '10.244.0.5' }, { ip: '10.244.0.6' }], ports: [{ port: 8080 }] }],
      },
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data', namespace: 'shop' },
        spec: { storageClassName: 'standard', resources: { requests: { storage: '10Gi' } } },
        status: { phase: 'Bound', capacity: { storage: '10Gi' } },
      },
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'compute', namespace: 'shop' },
        spec: { hard: { 'requests.cpu': '4' } },
        status: { hard: { 'requests.cpu': '4' }, used: { 'requests.cpu': '1500m' } },
      },
      {
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'PodMetrics',
        metadata: { name: 'legacy-0', namespace: 'shop' },
        timestamp: '2026-11-26T12:00:00Z',
        window: '15s',
        containers: [{ name: 'app', usage: { cpu: '1500000000n', memory: '512Mi' } }],
      },
    ],
  });
  p = await createKubernetesProvider({
    kubeConfig: await k.kubeConfig(),
    namespaces: ['shop', 'other'],
    timeoutMs: 2000,
  });
});

afterEach(async () => {
  await k.close();
});

describe('kubernetes provider: reads', () => {
  it('lists and gets deployments in domain terms', async () => {
    const all = await p.listDeployments();
    expect(all.map((d) => `${d.namespace}/${d.name}`).sort()).toEqual([
      'other/billing',
      'other/canary',
      'shop/api',
      'shop/web',
    ]);
    expect((await p.listDeployments('shop', 'tier=back')).map((d) => d.name)).toEqual(['api']);
    const web = await p.getDeployment('shop', 'web');
    expect(web).toMatchObject({
      name: 'web',
      replicas: 2,
      readyReplicas: 2,
      revision: 1,
      selector: 'app=web',
      images: [{ container: 'app', image: 'registry.local/web:1.0' }],
    });
    expect(web.resources[0]!.requests).toEqual({ cpu: '200m', memory: '256Mi' });
    expect(web.resourceVersion).toMatch(/^\d+$/);
  });

  it('lists pods, events and rollout history', async () => {
    const pods = await p.listPods('shop', 'app=api');
    expect(pods).toHaveLength(3);
    expect(pods.every((x) => x.ready && x.phase === 'Running' && x.restarts === 0)).toBe(true);
    const events = await p.listEvents('shop', { kind: 'Pod', name: pods[0]!.name });
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Started']));
    expect(events.every((e) => e.object.name === pods[0]!.name)).toBe(true);
    const history = await p.listReplicaSets('shop', 'app=web', 'web');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      revision: 1,
      replicas: 2,
      images: [{ container: 'app', image: 'registry.local/web:1.0' }],
    });
  });

  it('returns secret keys and type only, plus the certificate of TLS secrets', async () => {
    const secrets = await p.listSecrets('shop');
    expect(secrets.map((s) => [s.name, s.type, s.keys])).toEqual([
      ['db-password', 'Opaque', ['password']],
      ['web-tls', 'kubernetes.io/tls', ['tls.crt', 'tls.key']],
    ]);
    expect(secrets[1]!.tlsCrt).toBe(CERT);
    expect(secrets[0]!.tlsCrt).toBeUndefined();
    const text = JSON.stringify(secrets);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(b64('hunter2-very-secret'));
    expect(text).not.toContain('PRIVATE-KEY');
  });

  it('reads configmaps, services, endpoints, PVCs, quotas and pod metrics', async () => {
    expect((await p.listConfigMaps('shop'))[0]).toMatchObject({ name: 'settings', data: { mode: 'fast' } });
    expect((await p.listServices('shop'))[0]).toMatchObject({
      name: 'web',
      clusterIP: '10.96.0.10',
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    });
    expect((await p.listEndpoints('shop'))[0]).toMatchObject({
      name: 'web',
      readyAddresses: 2,
      notReadyAddresses: 0,
    });
    expect((await p.listPvcs('shop'))[0]).toMatchObject({
      name: 'data',
      phase: 'Bound',
      requested: '10Gi',
      capacity: '10Gi',
    });
    expect((await p.listResourceQuotas('shop'))[0]).toMatchObject({
      hard: { 'requests.cpu': '4' },
      used: { 'requests.cpu': '1500m' },
    });
    const usage = await p.podMetrics('shop');
    const legacy = usage.find((u) => u.pod === 'legacy-0')!;
    expect(legacy.containers[0]).toEqual({
      name: 'app',
      cpuMillicores: 1500,
      memoryBytes: 512 * 1024 * 1024,
    });
    const web = usage.filter((u) => u.labels.app === 'web');
    expect(web).toHaveLength(2);
    expect(web[0]!.containers[0]!.cpuMillicores).toBe(100);
  });

  it('reads any object through KubernetesObjectApi and applies server-side as "day2"', async () => {
    const cm = await p.getObject('v1', 'ConfigMap', 'shop', 'settings');
    expect(cm.data).toEqual({ mode: 'fast' });
    const before = k.writes;
    const preview = await p.serverSideApply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'flags', namespace: 'shop' },
        data: { beta: 'on' },
      },
      { dryRun: true },
    );
    expect(preview.data).toEqual({ beta: 'on' });
    expect(k.writes).toBe(before);
    await p.serverSideApply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'flags', namespace: 'shop' },
      data: { beta: 'on' },
    });
    const stored = k.store.get('v1', 'ConfigMap', 'shop', 'flags')!;
    expect(stored.data).toEqual({ beta: 'on' });
    expect((stored.metadata.managedFields as { manager: string }[])[0]!.manager).toBe('day2');
  });
});

describe('kubernetes provider: writes', () => {
  it('scales with dry run, then for real, and refuses a stale resourceVersion', async () => {
    const web = await p.getDeployment('shop', 'web');
    const before = k.writes;
    const dry = await p.scaleDeployment('shop', 'web', 4, {
      dryRun: true,
      resourceVersion: web.resourceVersion,
    });
    expect(dry.replicas).toBe(4);
    expect(k.writes).toBe(before);
    expect((await p.getDeployment('shop', 'web')).replicas).toBe(2);
    const done = await p.scaleDeployment('shop', 'web', 4, { resourceVersion: web.resourceVersion });
    expect(done.replicas).toBe(4);
    expect(k.writes).toBe(before + 1);
    const err = await rejection(
      p.scaleDeployment('shop', 'web', 5, { resourceVersion: web.resourceVersion }),
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).status).toBe(409);
    expect((err as Error).message).toContain('the object has been modified');
    await expect(p.scaleDeployment('shop', 'web', -1)).rejects.toBeInstanceOf(InvalidError);
  });

  it('sets an image, waits for the rollout, then rolls back to the previous revision', async () => {
    const updated = await p.setImage('shop', 'web', 'app', 'registry.local/web:1.1');
    expect(updated.images[0]!.image).toBe('registry.local/web:1.1');
    const progress: number[] = [];
    const result = await p.waitForRollout('shop', 'web', {
      timeoutMs: 10_000,
      pollMs: 20,
      onProgress: (d) => progress.push(d.updatedReplicas),
    });
    expect(result).toMatchObject({ ready: true, reason: 'Complete' });
    expect(result.deployment?.revision).toBe(2);
    expect(progress.length).toBeGreaterThan(0);
    const history = await p.listReplicaSets('shop', 'app=web', 'web');
    expect(history.map((h) => [h.revision, h.images[0]!.image])).toEqual([
      [2, 'registry.local/web:1.1'],
      [1, 'registry.local/web:1.0'],
    ]);
    const before = k.writes;
    const preview = await p.rollbackDeployment('shop', 'web', undefined, { dryRun: true });
    expect(preview.images[0]!.image).toBe('registry.local/web:1.0');
    expect(k.writes).toBe(before);
    const rolled = await p.rollbackDeployment('shop', 'web');
    expect(rolled.images[0]!.image).toBe('registry.local/web:1.0');
    k.settle();
    const after = await p.getDeployment('shop', 'web');
    expect(after.revision).toBe(3);
    expect(after.readyReplicas).toBe(2);
    await expect(p.rollbackDeployment('shop', 'web', 42)).rejects.toBeInstanceOf(NotFoundError);
    await expect(p.setImage('shop', 'web', 'nope', 'x:1')).rejects.toBeInstanceOf(InvalidError);
  });

  it('says who changed what: change-cause set with the write, revision history of a rollback, managedFields', async () => {
    const cause = 'kubernetes.io/change-cause';
    await p.setImage('shop', 'web', 'app', 'registry.local/web:1.1', {
      annotations: { [cause]: 'ci: release 1.1' },
    });
    k.settle();
    const d = await p.getDeployment('shop', 'web');
    const imageOwner = d.managers?.find((m) =>
      m.fields.some((f) => f.includes('containers') && f.at(-1) === 'image'),
    );
    expect(imageOwner).toMatchObject({ manager: 'day2', operation: 'Update' });
    expect(Date.parse(imageOwner!.time!)).toBeGreaterThan(Date.now() - 60_000);

    // A rollback takes the old ReplicaSet's template and annotations, as kubectl rollout undo does,
    // and the caller's over them: the ReplicaSet that comes back says why, and what it was before.
    await p.rollbackDeployment('shop', 'web', 1, { annotations: { [cause]: 'ops: back to 1.0' } });
    k.settle();
    const history = await p.listReplicaSets('shop', undefined, 'web');
    expect(history.map((h) => [h.revision, h.deployment, h.changeCause, h.revisionHistory])).toEqual([
      [3, 'web', 'ops: back to 1.0', [1]],
      [2, 'web', 'ci: release 1.1', []],
    ]);
    expect((await p.getDeployment('shop', 'web')).annotations[cause]).toBe('ops: back to 1.0');
  });

  it('reports a crash-looping rollout as ProgressDeadlineExceeded', async () => {
    await p.setImage('other', 'canary', 'app', 'registry.local/web:broken');
    const result = await p.waitForRollout('other', 'canary', { timeoutMs: 10_000, pollMs: 20 });
    expect(result).toMatchObject({ ready: false, reason: 'ProgressDeadlineExceeded' });
    // The deadline (60 emulated seconds = 60 ms) may pass before the new pods first start: let them.
    k.settle();
    const pods = await p.listPods('other', 'app=canary');
    expect(pods.filter((x) => x.ready)).toHaveLength(2);
    // maxSurge lets one new pod in; maxUnavailable (0 of 2) keeps both old ones.
    const crashing = pods.filter((x) => x.containers[0]!.waitingReason === 'CrashLoopBackOff');
    expect(crashing).toHaveLength(1);
    expect(crashing[0]!.restarts).toBeGreaterThan(0);
  });

  it("reads a running container's log, and what a crash-looping one printed before it died", async () => {
    const [web] = await p.listPods('shop', 'app=web');
    const log = await p.getPodLogs('shop', web!.name, { timestamps: true });
    expect(log).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z level=info msg="starting" container=app image=registry\.local\/web:1\.0\n/,
    );
    expect(await p.getPodLogs('shop', web!.name, { tailLines: 1 })).toBe('level=info msg="ready"\n');
    expect(await p.getPodLogs('shop', web!.name, { limitBytes: 10 })).toBe('level=info');
    // A healthy container has no previous run: the kubelet's own words come back as a 400.
    const none = await rejection(p.getPodLogs('shop', web!.name, { previous: true }));
    expect(none).toBeInstanceOf(InvalidError);
    expect((none as Error).message).toContain(
      `previous terminated container "app" in pod "${web!.name}" not found`,
    );
    expect(await rejection(p.getPodLogs('shop', 'no-such-pod'))).toBeInstanceOf(NotFoundError);
    // The API server's own validation wording (PodLogOptions, 422).
    const tail = await rejection(p.getPodLogs('shop', web!.name, { tailLines: -1 }));
    expect(tail).toBeInstanceOf(InvalidError);
    expect((tail as Error).message).toContain(
      'tailLines: Invalid value: -1: must be greater than or equal to 0',
    );
    const bytes = await rejection(p.getPodLogs('shop', web!.name, { limitBytes: 0 }));
    expect((bytes as Error).message).toContain('limitBytes: Invalid value: 0: must be greater than 0');
    expect(await rejection(p.getPodLogs('kube-system', 'x'))).toBeInstanceOf(ForbiddenError);

    await p.setImage('other', 'canary', 'app', 'registry.local/web:broken');
    await p.waitForRollout('other', 'canary', { timeoutMs: 10_000, pollMs: 20 });
    k.settle();
    const crashing = (await p.listPods('other', 'app=canary')).find(
      (x) => x.containers[0]!.waitingReason === 'CrashLoopBackOff',
    )!;
    const previous = await p.getPodLogs('other', crashing.name, { previous: true, tailLines: 5 });
    expect(previous).toBe(
      'level=info msg="starting" container=app image=registry.local/web:broken\npanic: DATABASE_URL is not set\n',
    );
    // Backing off, the current container is the one that exited: its log still reads.
    expect(await p.getPodLogs('other', crashing.name)).toBe(previous);
  });

  it('times out or stops a rollout wait when asked', async () => {
    const slow = await startKubernetesEmulator({
      objects: [deploymentObject('shop', 'api', 'registry.local/api:2.0')],
      timing: { readyDelayMs: 600_000 },
    });
    try {
      const sp = await createKubernetesProvider({
        kubeConfig: await slow.kubeConfig(),
        namespaces: ['shop'],
      });
      await sp.setImage('shop', 'api', 'app', 'registry.local/api:2.1');
      const r = await sp.waitForRollout('shop', 'api', { timeoutMs: 50, pollMs: 10 });
      expect(r).toMatchObject({ ready: false, reason: 'Timeout' });
      // One surge pod (not ready yet) beside the two old ones.
      expect(r.deployment?.updatedReplicas).toBe(1);
      expect(r.deployment?.readyReplicas).toBe(2);
      const ac = new AbortController();
      ac.abort();
      expect((await sp.waitForRollout('shop', 'api', { timeoutMs: 5000, signal: ac.signal })).reason).toBe(
        'Aborted',
      );
    } finally {
      await slow.close();
    }
  });

  it('restarts a deployment with new pods', async () => {
    const old = (await p.listPods('shop', 'app=api')).map((x) => x.name);
    const d = await p.restartDeployment('shop', 'api', { at: new Date('2026-11-26T12:00:00Z') });
    expect(d.revision).toBe(2);
    k.settle();
    const pods = await p.listPods('shop', 'app=api');
    expect(pods).toHaveLength(3);
    expect(pods.some((x) => old.includes(x.name))).toBe(false);
  });

  it('patches with each patch type and honours a resourceVersion precondition', async () => {
    const web = await p.getDeployment('shop', 'web');
    await p.patchDeployment(
      'shop',
      'web',
      { metadata: { annotations: { team: 'a' } } },
      { type: 'merge', resourceVersion: web.resourceVersion },
    );
    expect((await p.getDeployment('shop', 'web')).annotations.team).toBe('a');
    await expect(
      p.patchDeployment('shop', 'web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], {
        type: 'json',
        resourceVersion: web.resourceVersion,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    const json = await p.patchDeployment(
      'shop',
      'web',
      [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      { type: 'json' },
    );
    expect(json.replicas).toBe(3);
  });

  it('creates and updates an HPA', async () => {
    const created = await p.upsertHpa('shop', {
      name: 'web',
      target: { name: 'web' },
      minReplicas: 2,
      maxReplicas: 5,
      targetCpuUtilization: 70,
    });
    expect(created).toMatchObject({
      name: 'web',
      minReplicas: 2,
      maxReplicas: 5,
      targetCpuUtilization: 70,
      target: { kind: 'Deployment', name: 'web' },
    });
    const updated = await p.upsertHpa('shop', {
      name: 'web',
      target: { name: 'web' },
      minReplicas: 3,
      maxReplicas: 8,
      targetCpuUtilization: 60,
    });
    expect(updated.maxReplicas).toBe(8);
    expect((await p.listHpas('shop')).map((h) => h.maxReplicas)).toEqual([8]);
    expect((await p.getHpa('shop', 'web')).targetCpuUtilization).toBe(60);
    await expect(
      p.upsertHpa('shop', {
        name: 'bad',
        target: { name: 'web' },
        minReplicas: 5,
        maxReplicas: 2,
        targetCpuUtilization: 60,
      }),
    ).rejects.toBeInstanceOf(InvalidError);
  });

  it('creates and deletes role bindings', async () => {
    const before = k.writes;
    await p.createRoleBinding(
      'shop',
      {
        name: 'grant-alice',
        role: { kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', name: 'alice' }],
      },
      { dryRun: true },
    );
    expect(k.writes).toBe(before);
    const rb = await p.createRoleBinding('shop', {
      name: 'grant-alice',
      role: { kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'alice' }],
      labels: { 'day2.dev/grant': 'g1' },
    });
    expect(rb).toMatchObject({
      name: 'grant-alice',
      role: { kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });
    await expect(
      p.createRoleBinding('shop', {
        name: 'grant-alice',
        role: { kind: 'ClusterRole', name: 'view' },
        subjects: [],
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect((await p.listRoleBindings('shop')).map((r) => r.name)).toEqual(['grant-alice']);
    await p.deleteRoleBinding('shop', 'grant-alice');
    expect(await p.listRoleBindings('shop')).toEqual([]);
    await expect(p.deleteRoleBinding('shop', 'grant-alice')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('kubernetes provider: errors', () => {
  it('translates 404, scope, 500, 429, latency beyond the timeout and dropped connections', async () => {
    const nf = await rejection(p.getDeployment('shop', 'missing'));
    expect(nf).toBeInstanceOf(NotFoundError);
    expect((nf as Error).message).toBe('deployments.apps "missing" not found');
    await expect(p.getDeployment('kube-system', 'coredns')).rejects.toBeInstanceOf(ForbiddenError);

    k.faults.add({ kind: 'status', status: 503, times: 1 });
    const unavailable = await rejection(p.listPods('shop'));
    expect(unavailable).toBeInstanceOf(BackendUnavailableError);
    expect((unavailable as BackendUnavailableError).status).toBe(503);
    expect((unavailable as BackendUnavailableError).retryable).toBe(true);

    k.faults.add({ kind: 'throttle', retryAfterSeconds: 2, times: 1 });
    const throttled = await rejection(p.listPods('shop'));
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect((throttled as ThrottledError).retryAfterMs).toBe(2000);

    k.faults.add({ kind: 'drop', times: 1 });
    await expect(p.listPods('shop')).rejects.toBeInstanceOf(BackendUnavailableError);

    const slow = await createKubernetesProvider({
      kubeConfig: await k.kubeConfig(),
      namespaces: ['shop'],
      timeoutMs: 100,
    });
    k.faults.add({ kind: 'latency', latencyMs: 1000, times: 1 });
    const timedOut = await rejection(slow.listPods('shop'));
    expect(timedOut).toBeInstanceOf(BackendUnavailableError);
    expect((timedOut as Error).message).toContain('within 100 ms');

    expect((await p.listPods('shop', 'app=web')).length).toBe(2);
  });

  it('turns refused credentials into ForbiddenError', async () => {
    const kc = await k.kubeConfig();
    kc.users[0] = { ...kc.users[0]!, token: 'stolen' };
    const bad = await createKubernetesProvider({ kubeConfig: kc, namespaces: ['shop'] });
    await expect(bad.listDeployments('shop')).rejects.toBeInstanceOf(ForbiddenError);
  });
});
