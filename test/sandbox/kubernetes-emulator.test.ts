import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deploymentObject } from '../../src/sandbox/kubernetes/builders.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';

let k: KubernetesEmulator;
let kc: KubeConfig;
let apps: AppsV1Api;
let core: CoreV1Api;

/** The ApiException the client throws, with its Status body parsed. */
async function failure(
  p: Promise<unknown>,
): Promise<{ code: number; status: Record<string, unknown>; headers: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: number; body: string; headers: Record<string, string> };
    return {
      code: err.code,
      status: err.body ? (JSON.parse(err.body) as Record<string, unknown>) : {},
      headers: err.headers,
    };
  }
  throw new Error('expected the call to fail');
}

/** Sets the image of a shop deployment's container "app" the way kubectl set image does. */
async function setImage(name: string, image: string): Promise<void> {
  await apps.patchNamespacedDeployment(
    {
      name,
      namespace: 'shop',
      body: { spec: { template: { spec: { containers: [{ name: 'app', image }] } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
}

/**
 * Rolls shop/worker back to `rs`'s template as kubectl rollout undo does (a JSON patch of the
 * Deployment), with `extra` operations in the same patch.
 */
async function rollBackWorker(rs: V1ReplicaSet, extra: object[] = []): Promise<void> {
  const template = JSON.parse(JSON.stringify(rs.spec!.template)) as {
    metadata: { labels: Record<string, string> };
  };
  delete template.metadata.labels['pod-template-hash'];
  await apps.patchNamespacedDeployment({
    name: 'worker',
    namespace: 'shop',
    body: [{ op: 'replace', path: '/spec/template', value: template }, ...extra],
  });
}

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeEach(async () => {
  k = await startKubernetesEmulator({
    badImages: ['registry.local/web:broken'],
    objects: [
      deploymentObject('shop', 'web', 'registry.local/web:1.0', {
        labels: { tier: 'front' },
        progressDeadlineSeconds: 60,
      }),
      deploymentObject('shop', 'api', 'registry.local/api:2.0', { replicas: 3, labels: { tier: 'back' } }),
      deploymentObject('shop', 'worker', 'registry.local/worker:1.0', { replicas: 1 }),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'shop' },
        data: { mode: 'fast' },
      },
    ],
  });
  kc = await k.kubeConfig();
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
});

afterEach(async () => {
  await k.close();
});

describe('kubernetes emulator: CRUD and errors', () => {
  it('serves seeded deployments with settled status, ready pods and revision 1', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    expect(d.status?.readyReplicas).toBe(3);
    expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe(
      'NewReplicaSetAvailable',
    );
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=api' });
    expect(pods.items).toHaveLength(3);
    expect(pods.items.every((p) => p.status?.phase === 'Running')).toBe(true);
  });

  it('creates, replaces and deletes, answering 404 and 409 with Status bodies', async () => {
    const created = await apps.createNamespacedDeployment({
      namespace: 'shop',
      body: deploymentObject('shop', 'cart', 'registry.local/cart:1') as never,
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.generation).toBe(1);
    const dup = await failure(
      apps.createNamespacedDeployment({
        namespace: 'shop',
        body: deploymentObject('shop', 'cart', 'x:1') as never,
      }),
    );
    expect(dup.code).toBe(409);
    expect(dup.status).toMatchObject({
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'deployments.apps "cart" already exists',
    });
    // The controller writes status after the create (as a real one would): let it finish, then
    // replace the latest version.
    k.settle();
    const latest = await apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    latest.spec!.replicas = 4;
    const replaced = await apps.replaceNamespacedDeployment({
      name: 'cart',
      namespace: 'shop',
      body: latest,
    });
    expect(replaced.spec?.replicas).toBe(4);
    expect(replaced.metadata?.generation).toBe(2);
    const st = await apps.deleteNamespacedDeployment({ name: 'cart', namespace: 'shop' });
    expect(st.status).toBe('Success');
    const nf = await failure(apps.readNamespacedDeployment({ name: 'cart', namespace: 'shop' }));
    expect(nf.code).toBe(404);
    expect(nf.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "cart" not found',
      reason: 'NotFound',
      details: { name: 'cart', group: 'apps', kind: 'deployments' },
      code: 404,
    });
    expect(
      (await failure(core.readNamespacedConfigMap({ name: 'nope', namespace: 'shop' }))).status.message,
    ).toBe('configmaps "nope" not found');
  });

  it('answers a stale resourceVersion with 409 Conflict and the real message', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'shop', body: { metadata: { labels: { touched: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    d.spec!.replicas = 5;
    const put = await failure(apps.replaceNamespacedDeployment({ name: 'web', namespace: 'shop', body: d }));
    expect(put.code).toBe(409);
    expect(put.status).toMatchObject({
      reason: 'Conflict',
      status: 'Failure',
      code: 409,
      message:
        'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'web', group: 'apps', kind: 'deployments' },
    });
    const patch = await failure(
      apps.patchNamespacedDeployment(
        {
          name: 'web',
          namespace: 'shop',
          body: { metadata: { resourceVersion: d.metadata!.resourceVersion }, spec: { replicas: 5 } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(patch.code).toBe(409);
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })).spec?.replicas).toBe(2);
  });

  it('rejects invalid objects with 422 Invalid and causes', async () => {
    const bad = await failure(
      apps.patchNamespacedDeployment(
        { name: 'web', namespace: 'shop', body: { spec: { replicas: -1 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(bad.code).toBe(422);
    expect(bad.status.reason).toBe('Invalid');
    expect(String(bad.status.message)).toContain('Deployment.apps "web" is invalid: spec.replicas');
    expect((bad.status.details as { causes: { field: string }[] }).causes[0]!.field).toBe('spec.replicas');
  });

  it('refuses a wrong bearer token with 401', async () => {
    const other = await startKubernetesEmulator({ token: 'right' });
    try {
      const kc2 = await other.kubeConfig();
      kc2.users[0] = { ...kc2.users[0]!, token: 'wrong' };
      const e = await failure(kc2.makeApiClient(CoreV1Api).listNamespace());
      expect(e.code).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('kubernetes emulator: patches, scale and dry runs', () => {
  it('applies merge, strategic-merge and json patches', async () => {
    const merged = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'shop', body: { metadata: { annotations: { owner: 'team-a' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.annotations?.owner).toBe('team-a');
    const strategic = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'shop',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'app', env: [{ name: 'MODE', value: 'x' }] },
                  { name: 'sidecar', image: 'registry.local/proxy:1' },
                ],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const containers = strategic.spec!.template.spec!.containers;
    expect(containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    expect(containers[0]!.image).toBe('registry.local/web:1.0');
    expect(containers[0]!.env).toEqual([{ name: 'MODE', value: 'x' }]);
    const env2 = await apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'shop',
        body: {
          spec: {
            template: { spec: { containers: [{ name: 'app', env: [{ name: 'LEVEL', value: '2' }] }] } },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(env2.spec!.template.spec!.containers[0]!.env!.map((e) => e.name)).toEqual(['MODE', 'LEVEL']);
    const json = await apps.patchNamespacedDeployment({
      name: 'web',
      namespace: 'shop',
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
    });
    expect(json.spec?.replicas).toBe(3);
    const unsupported = await failure(
      apps.patchNamespacedDeployment(
        { name: 'web', namespace: 'shop', body: {} },
        setHeaderOptions('Content-Type', 'application/xml'),
      ),
    );
    expect(unsupported.code).toBe(415);
  });

  it('serves the scale subresource (get, put, patch) and counts writes', async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: 'api', namespace: 'shop' });
    expect(scale.apiVersion).toBe('autoscaling/v1');
    expect(scale.spec?.replicas).toBe(3);
    expect(scale.status?.selector).toBe('app=api');
    const before = k.writes;
    const put = await apps.replaceNamespacedDeploymentScale({
      name: 'api',
      namespace: 'shop',
      body: {
        metadata: { name: 'api', namespace: 'shop', resourceVersion: scale.metadata!.resourceVersion },
        spec: { replicas: 5 },
      },
    });
    expect(put.spec?.replicas).toBe(5);
    expect(k.writes).toBe(before + 1);
    const stale = await failure(
      apps.replaceNamespacedDeploymentScale({
        name: 'api',
        namespace: 'shop',
        body: {
          metadata: { name: 'api', namespace: 'shop', resourceVersion: scale.metadata!.resourceVersion },
          spec: { replicas: 6 },
        },
      }),
    );
    expect(stale.code).toBe(409);
    const patched = await apps.patchNamespacedDeploymentScale(
      { name: 'api', namespace: 'shop', body: { spec: { replicas: 1 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.replicas).toBe(1);
    k.settle();
    const pods = await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=api' });
    expect(pods.items).toHaveLength(1);
    expect((await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' })).status?.replicas).toBe(
      1,
    );
  });

  it('dryRun=All validates and answers but changes nothing', async () => {
    const before = k.writes;
    const rv = (await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })).metadata!
      .resourceVersion;
    const dry = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'shop', body: { spec: { replicas: 9 } }, dryRun: 'All' },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(dry.spec?.replicas).toBe(9);
    await apps.createNamespacedDeployment({
      namespace: 'shop',
      body: deploymentObject('shop', 'ghost', 'x:1') as never,
      dryRun: 'All',
    });
    await apps.deleteNamespacedDeployment({ name: 'api', namespace: 'shop', dryRun: 'All' });
    await apps.replaceNamespacedDeploymentScale({
      name: 'web',
      namespace: 'shop',
      body: { metadata: { name: 'web' }, spec: { replicas: 7 } },
      dryRun: 'All',
    });
    const invalid = await failure(
      apps.patchNamespacedDeployment(
        { name: 'web', namespace: 'shop', body: { spec: { replicas: -3 } }, dryRun: 'All' },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(invalid.code).toBe(422);
    expect(k.writes).toBe(before);
    const after = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(after.spec?.replicas).toBe(2);
    expect(after.metadata?.resourceVersion).toBe(rv);
    expect((await failure(apps.readNamespacedDeployment({ name: 'ghost', namespace: 'shop' }))).code).toBe(
      404,
    );
    await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
  });

  it('does not count a no-op patch as a write', async () => {
    const before = k.writes;
    const d = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'shop', body: { spec: { replicas: 2 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(d.spec?.replicas).toBe(2);
    expect(k.writes).toBe(before);
  });
});

describe('kubernetes emulator: selectors and pagination', () => {
  it('filters by label selector operators and field selector', async () => {
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await apps.listNamespacedDeployment({ namespace: 'shop', labelSelector, fieldSelector })).items
        .map((d) => d.metadata!.name)
        .sort();
    expect(await names('tier=front')).toEqual(['web']);
    expect(await names('tier==back')).toEqual(['api']);
    expect(await names('tier!=front')).toEqual(['api', 'worker']);
    expect(await names('tier in (front,back)')).toEqual(['api', 'web']);
    expect(await names('tier notin (front)')).toEqual(['api', 'worker']);
    expect(await names('tier')).toEqual(['api', 'web']);
    expect(await names('!tier')).toEqual(['worker']);
    expect(await names(undefined, 'metadata.name=worker')).toEqual(['worker']);
    const bad = await failure(apps.listNamespacedDeployment({ namespace: 'shop', labelSelector: 'a b c' }));
    expect(bad.code).toBe(400);
  });

  it('pages with limit and continue', async () => {
    const first = await apps.listNamespacedDeployment({ namespace: 'shop', limit: 2 });
    expect(first.items.map((d) => d.metadata!.name)).toEqual(['api', 'web']);
    expect(first.metadata?.remainingItemCount).toBe(1);
    const second = await apps.listNamespacedDeployment({
      namespace: 'shop',
      limit: 2,
      _continue: first.metadata!._continue!,
    });
    expect(second.items.map((d) => d.metadata!.name)).toEqual(['worker']);
    expect(second.metadata?._continue).toBeUndefined();
  });
});

describe('kubernetes emulator: rollouts', () => {
  it('rolls out a new image to ready through a new ReplicaSet revision', async () => {
    await setImage('web', 'registry.local/web:1.1');
    const d = await waitFor(
      () => apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' }),
      (x) =>
        x.status?.conditions?.find((c) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable' &&
        x.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '2',
    );
    expect(d.status).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      observedGeneration: d.metadata?.generation,
    });
    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=web' })).items;
    const byRev = new Map(rs.map((r) => [r.metadata!.annotations!['deployment.kubernetes.io/revision'], r]));
    expect(byRev.get('2')?.spec?.replicas).toBe(2);
    expect(byRev.get('1')?.spec?.replicas).toBe(0);
    expect(byRev.get('2')?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      controller: true,
    });
    const pods = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items;
    expect(pods.map((p) => p.spec!.containers[0]!.image)).toEqual([
      'registry.local/web:1.1',
      'registry.local/web:1.1',
    ]);
    const reasons = (await core.listNamespacedEvent({ namespace: 'shop' })).items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['ScalingReplicaSet', 'Killing', 'SuccessfulCreate']));
  });

  it('crash-loops a bad image and reports ProgressDeadlineExceeded while old pods stay', async () => {
    await setImage('web', 'registry.local/web:broken');
    const d = await waitFor(
      () => apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' }),
      (x) =>
        x.status?.conditions?.find((c) => c.type === 'Progressing')?.reason === 'ProgressDeadlineExceeded',
    );
    // The deadline (60 emulated seconds = 60 ms) may pass before the pods first start: let them.
    k.settle();
    const cond = d.status!.conditions!.find((c) => c.type === 'Progressing')!;
    expect(cond.status).toBe('False');
    expect(cond.message).toMatch(/^ReplicaSet "web-[a-z0-9]+" has timed out progressing\.$/);
    const pods = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items;
    const bad = pods.filter((p) => p.spec!.containers[0]!.image === 'registry.local/web:broken');
    const good = pods.filter((p) => p.spec!.containers[0]!.image === 'registry.local/web:1.0');
    // Two replicas: maxSurge 25% rounds up to one extra pod, maxUnavailable 25% down to none, so
    // one new pod crash-loops while both old ones keep serving.
    expect(good).toHaveLength(2);
    expect(bad).toHaveLength(1);
    const cs = bad[0]!.status!.containerStatuses![0]!;
    expect(cs.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(cs.restartCount).toBeGreaterThan(0);
    const events = (
      await core.listNamespacedEvent({
        namespace: 'shop',
        fieldSelector: `involvedObject.name=${bad[0]!.metadata!.name}`,
      })
    ).items;
    expect(
      events.some(
        (e) =>
          e.reason === 'BackOff' &&
          e.type === 'Warning' &&
          e.message!.startsWith('Back-off restarting failed container app'),
      ),
    ).toBe(true);
  });

  it('paces a rolling update by maxSurge and maxUnavailable, and a Recreate stops the old pods first', async () => {
    // Pods take 150 ms to start here, so that every intermediate state lasts long enough to be seen.
    const slow = await startKubernetesEmulator({
      objects: [deploymentObject('shop', 'api', 'registry.local/api:2.0', { replicas: 4 })],
      timing: { readyDelayMs: 150 },
    });
    try {
      const slowApps = (await slow.kubeConfig()).makeApiClient(AppsV1Api);
      const sample = () => {
        const pods = slow.store.list('v1', 'Pod', 'shop');
        const ready = pods.filter((p) =>
          (p.status as { conditions?: { type: string; status: string }[] }).conditions?.some(
            (c) => c.type === 'Ready' && c.status === 'True',
          ),
        );
        const images = new Set(
          pods.map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image),
        );
        return { pods: pods.length, ready: ready.length, images };
      };
      const settledOn = (image: string) => {
        const s = sample();
        return s.ready === 4 && s.pods === 4 && s.images.size === 1 && s.images.has(image);
      };
      const watch = (image: string) =>
        new Promise<ReturnType<typeof sample>[]>((resolve) => {
          const seen: ReturnType<typeof sample>[] = [];
          const t = setInterval(() => {
            seen.push(sample());
            if (settledOn(image)) {
              clearInterval(t);
              resolve(seen);
            }
          }, 2);
        });
      const patch = (spec: Record<string, unknown>) =>
        slowApps.patchNamespacedDeployment(
          { name: 'api', namespace: 'shop', body: { spec } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      const template = (image: string) => ({ spec: { containers: [{ name: 'app', image }] } });

      await patch({ template: template('registry.local/api:2.1') });
      const rolling = await watch('registry.local/api:2.1');
      // Four replicas, 25% each way: never more than 5 pods, never fewer than 3 ready.
      expect(Math.max(...rolling.map((s) => s.pods))).toBe(5);
      expect(Math.min(...rolling.map((s) => s.ready))).toBe(3);
      expect(rolling.some((s) => s.images.size === 2)).toBe(true);

      await patch({
        strategy: { type: 'Recreate', rollingUpdate: null },
        template: template('registry.local/api:2.2'),
      });
      const recreate = await watch('registry.local/api:2.2');
      expect(recreate.every((s) => s.images.size <= 1)).toBe(true);
      expect(Math.min(...recreate.map((s) => s.ready))).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('rolls back by patching the template of an older ReplicaSet, which becomes the newest revision', async () => {
    await setImage('worker', 'registry.local/worker:2.0');
    k.settle();
    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=worker' }))
      .items;
    const rev1 = rs.find((r) => r.metadata!.annotations!['deployment.kubernetes.io/revision'] === '1')!;
    await rollBackWorker(rev1);
    k.settle();
    const d = await apps.readNamespacedDeployment({ name: 'worker', namespace: 'shop' });
    expect(d.spec!.template.spec!.containers[0]!.image).toBe('registry.local/worker:1.0');
    expect(d.metadata!.annotations!['deployment.kubernetes.io/revision']).toBe('3');
    const after = (await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=worker' }))
      .items;
    expect(after).toHaveLength(2);
    expect(
      after.find((r) => r.metadata!.name === rev1.metadata!.name)!.metadata!.annotations![
        'deployment.kubernetes.io/revision'
      ],
    ).toBe('3');
  });

  it("copies the Deployment's annotations to the ReplicaSet it rolls out, and keeps a reused one's old revisions in revision-history", async () => {
    const cause = 'kubernetes.io/change-cause';
    await apps.patchNamespacedDeployment(
      {
        name: 'worker',
        namespace: 'shop',
        body: {
          metadata: { annotations: { [cause]: 'ci: release 2.0' } },
          spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.local/worker:2.0' }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    k.settle();
    const list = async () =>
      (await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=worker' })).items;
    const byRev = (items: Awaited<ReturnType<typeof list>>, rev: string) =>
      items.find((r) => r.metadata!.annotations!['deployment.kubernetes.io/revision'] === rev)!;
    const rev2 = byRev(await list(), '2');
    // As the deployment controller does (SetNewReplicaSetAnnotations): every Deployment annotation
    // except its own bookkeeping goes to the new ReplicaSet.
    expect(rev2.metadata!.annotations![cause]).toBe('ci: release 2.0');
    expect(rev2.metadata!.annotations!['deployment.kubernetes.io/revision-history']).toBeUndefined();

    // A rollback as kubectl rollout undo makes it: the old template, and the annotations in the same patch.
    const rev1 = byRev(await list(), '1');
    await rollBackWorker(rev1, [
      { op: 'add', path: '/metadata/annotations/kubernetes.io~1change-cause', value: 'ops: undo 2.0' },
    ]);
    k.settle();
    const reused = byRev(await list(), '3');
    expect(reused.metadata!.name).toBe(rev1.metadata!.name);
    expect(reused.metadata!.annotations!['deployment.kubernetes.io/revision-history']).toBe('1');
    expect(reused.metadata!.annotations![cause]).toBe('ops: undo 2.0');
    // The ReplicaSet that stepped down keeps what it had.
    expect(byRev(await list(), '2').metadata!.annotations![cause]).toBe('ci: release 2.0');

    // And once more: revision 2's ReplicaSet comes back as 4 with "2" in its history.
    await setImage('worker', 'registry.local/worker:2.0');
    k.settle();
    expect(byRev(await list(), '4').metadata!.annotations!['deployment.kubernetes.io/revision-history']).toBe(
      '2',
    );
  });

  it('restarts through the restartedAt template annotation', async () => {
    const oldPods = (
      await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=worker' })
    ).items.map((p) => p.metadata!.name);
    await apps.patchNamespacedDeployment(
      {
        name: 'worker',
        namespace: 'shop',
        body: {
          spec: {
            template: {
              metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-26T12:00:00Z' } },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    k.settle();
    const pods = (await core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=worker' })).items;
    expect(pods).toHaveLength(1);
    expect(oldPods).not.toContain(pods[0]!.metadata!.name);
    expect(pods[0]!.metadata!.annotations!['kubectl.kubernetes.io/restartedAt']).toBe('2026-11-26T12:00:00Z');
  });
});

describe('kubernetes emulator: other APIs', () => {
  it('server-side applies with a field manager, creating then merging, and reports conflicts', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const cm: KubernetesObject & { data: Record<string, string> } = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'flags', namespace: 'shop' },
      data: { a: '1' },
    };
    const created = await objects.patch(
      cm,
      undefined,
      undefined,
      'day2',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    expect((created as unknown as { data: Record<string, string> }).data).toEqual({ a: '1' });
    expect(created.metadata?.managedFields?.[0]).toMatchObject({ manager: 'day2', operation: 'Apply' });
    await core.patchNamespacedConfigMap(
      { name: 'flags', namespace: 'shop', body: { data: { a: '2' } }, fieldManager: 'kubectl-edit' },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const conflict = await failure(
      objects.patch(cm, undefined, undefined, 'day2', undefined, PatchStrategy.ServerSideApply),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.status.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl-edit": .data.a',
    );
    const forced = await objects.patch(cm, undefined, undefined, 'day2', true, PatchStrategy.ServerSideApply);
    expect((forced as unknown as { data: Record<string, string> }).data.a).toBe('1');
    const missingManager = await failure(
      objects.patch(cm, undefined, undefined, undefined, undefined, PatchStrategy.ServerSideApply),
    );
    expect(missingManager.code).toBe(400);
  });

  it('serves HPAs, rolebindings, roles and pod metrics', async () => {
    const hpa = kc.makeApiClient(AutoscalingV2Api);
    await hpa.createNamespacedHorizontalPodAutoscaler({
      namespace: 'shop',
      body: {
        metadata: { name: 'web' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
          minReplicas: 2,
          maxReplicas: 6,
        },
      },
    });
    const list = await hpa.listNamespacedHorizontalPodAutoscaler({ namespace: 'shop' });
    expect(list.items[0]!.spec?.metrics?.[0]?.resource?.target.averageUtilization).toBe(80);
    const badHpa = await failure(
      hpa.createNamespacedHorizontalPodAutoscaler({
        namespace: 'shop',
        body: {
          metadata: { name: 'x' },
          spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 5, maxReplicas: 2 },
        },
      }),
    );
    expect(badHpa.code).toBe(422);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRoleBinding({
      namespace: 'shop',
      body: {
        metadata: { name: 'oncall-view' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    expect(
      (await rbac.listNamespacedRoleBinding({ namespace: 'shop' })).items.map((r) => r.metadata!.name),
    ).toEqual(['oncall-view']);
    expect((await rbac.listClusterRole()).items).toEqual([]);
    expect((await rbac.listNamespacedRole({ namespace: 'shop' })).items).toEqual([]);
    await rbac.deleteNamespacedRoleBinding({ name: 'oncall-view', namespace: 'shop' });
    expect((await rbac.listNamespacedRoleBinding({ namespace: 'shop' })).items).toEqual([]);

    const custom = kc.makeApiClient(CustomObjectsApi);
    const metrics = (await custom.listNamespacedCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      namespace: 'shop',
      plural: 'pods',
    })) as { kind: string; items: { containers: { usage: { cpu: string } }[] }[] };
    expect(metrics.kind).toBe('PodMetricsList');
    expect(metrics.items).toHaveLength(6);
    expect(metrics.items[0]!.containers[0]!.usage.cpu).toMatch(/m$/);
  });

  it('refuses writes into a namespace that does not exist', async () => {
    const e = await failure(
      core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } }),
    );
    expect(e.code).toBe(404);
    expect(e.status.message).toBe('namespaces "nowhere" not found');
  });
});

describe('kubernetes emulator: fault injection', () => {
  it('injects 500, 429 with Retry-After, latency and dropped connections', async () => {
    k.faults.add({ kind: 'status', status: 500, times: 1 });
    const e500 = await failure(core.listNamespace());
    expect(e500.code).toBe(500);
    expect(e500.status).toMatchObject({ kind: 'Status', reason: 'InternalError' });
    k.faults.add({ kind: 'throttle', retryAfterSeconds: 3, times: 1 });
    const e429 = await failure(core.listNamespace());
    expect(e429.code).toBe(429);
    expect(e429.headers['retry-after']).toBe('3');
    expect(e429.status.reason).toBe('TooManyRequests');
    k.faults.add({ kind: 'drop', path: '/configmaps', times: 1 });
    await expect(core.listNamespacedConfigMap({ namespace: 'shop' })).rejects.toThrow();
    k.faults.add({ kind: 'latency', latencyMs: 30, times: 1 });
    expect((await core.listNamespacedConfigMap({ namespace: 'shop' })).items).toHaveLength(1);
  });
});
