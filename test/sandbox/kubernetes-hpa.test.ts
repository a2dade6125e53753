import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutoscalingV2Api, type KubeConfig } from '@kubernetes/client-node';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';
import { deploymentObject } from '../../src/sandbox/kubernetes/builders.js';
import { LOAD_ANNOTATION } from '../../src/sandbox/kubernetes/pod-metrics.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let k: KubernetesEmulator;
let kc: KubeConfig;

const replicas = () => (k.store.get('apps/v1', 'Deployment', 'shop', 'web')!.spec as Obj).replicas as number;
const hpaStatus = () =>
  k.store.get('autoscaling/v2', 'HorizontalPodAutoscaler', 'shop', 'web')!.status as Obj;
const condition = (type: string) => ((hpaStatus()?.conditions ?? []) as Obj[]).find((c) => c.type === type);

/** Sets the load on shop/web: its total CPU, shared by its running pods. */
function load(cpu: string): void {
  const d = k.store.get('apps/v1', 'Deployment', 'shop', 'web')!;
  d.metadata.annotations = { ...d.metadata.annotations, [LOAD_ANNOTATION]: `cpu=${cpu}` };
  k.store.put(d);
}

async function settled(ms = 400): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  k.settle();
}

async function until(ok: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createHpa(behavior?: object, requests = true): Promise<void> {
  if (!requests) {
    const d = k.store.get('apps/v1', 'Deployment', 'shop', 'web')!;
    delete ((d.spec as Obj).template.spec.containers[0] as Obj).resources;
    k.store.put(d);
    k.settle();
  }
  await kc.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace: 'shop',
    body: {
      metadata: { name: 'web' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
          },
        ],
        ...(behavior ? { behavior } : {}),
      },
    },
  });
}

beforeEach(async () => {
  k = await startKubernetesEmulator({
    objects: [
      deploymentObject('shop', 'web', 'registry.local/web:1.0', { replicas: 2, requests: { cpu: '100m' } }),
    ],
    timing: { readyDelayMs: 5, hpaSyncMs: 20 },
  });
  kc = await k.kubeConfig();
});
afterEach(async () => k.close());

describe('kubernetes emulator: the HPA controller', () => {
  it('scales toward ceil(replicas × current / target), within max, and says it is limited', async () => {
    load('100m'); // 50m of 100m per pod: at target
    await createHpa();
    await until(() => condition('ScalingActive')?.status === 'True', 'a first sync');
    expect(hpaStatus()).toMatchObject({ currentReplicas: 2, desiredReplicas: 2 });
    expect(hpaStatus().currentMetrics[0].resource.current.averageUtilization).toBe(50);
    expect(replicas()).toBe(2);

    load('160m'); // 80% of requests: ceil(2 × 80 / 50) = 4
    await until(() => replicas() === 4, '4 replicas');
    await settled();
    // 160m over 4 pods is 40% of requests: a ratio of 0.8, but scale-down waits out its window.
    expect(replicas()).toBe(4);

    load('600m'); // 150% at 4 pods: ceil(4 × 3) = 12, held at max 5
    await until(() => replicas() === 5, 'the max');
    await until(() => condition('ScalingLimited')?.reason === 'TooManyReplicas', 'TooManyReplicas');
    expect(hpaStatus().desiredReplicas).toBe(5);
    expect(k.store.list('v1', 'Event', 'shop').some((e) => (e as Obj).reason === 'SuccessfulRescale')).toBe(
      true,
    );
  });

  it('leaves a ratio within the 10% tolerance alone, and scales down once the window allows', async () => {
    load('108m'); // 54%: ratio 1.08
    await createHpa({ scaleDown: { stabilizationWindowSeconds: 0 } });
    await until(() => hpaStatus()?.desiredReplicas !== undefined, 'a first sync');
    await settled(200);
    expect(replicas()).toBe(2);
    load('40m'); // 20%: ceil(2 × 0.4) = 1
    await until(() => replicas() === 1, 'a scale-down to 1');
  });

  it('does not scale pods without a CPU request, and says why', async () => {
    load('500m');
    await createHpa(undefined, false);
    await until(() => condition('ScalingActive')?.status === 'False', 'ScalingActive False');
    expect(condition('ScalingActive')).toMatchObject({ reason: 'FailedGetResourceMetric' });
    expect(condition('ScalingActive')!.message).toContain('missing request for cpu');
    expect(replicas()).toBe(2);
  });
});
