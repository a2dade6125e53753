import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderMiddleware,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentObject } from '../../src/sandbox/kubernetes/builders.js';
import { POD_LOG_PARAMETERS } from '../../src/sandbox/kubernetes/pod-logs.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';
import {
  buildKubernetesValidator,
  KUBERNETES_OPENAPI_DIR,
  KUBERNETES_OPENAPI_DOCS,
  kubernetesOpenApiPresent,
  type KubernetesOpenApiDoc,
} from './kubernetes-openapi.js';

/** Client options that keep a copy of the raw response body the client received. */
function recorder(): { options: ConfigurationOptions; last: () => Promise<unknown> } {
  let captured: Promise<string> | undefined;
  const base = setHeaderMiddleware('X-Fidelity', '1');
  const mw: ObservableMiddleware = {
    pre: (ctx) => base.pre(ctx),
    post: (res) => {
      const original = res.body;
      res.body = {
        ...original,
        text: () => (captured = original.text()),
        binary: () => original.binary(),
      };
      return base.post(res);
    },
  };
  return {
    options: { middleware: [mw], middlewareMergeStrategy: 'append' },
    last: async () => JSON.parse(await captured!) as unknown,
  };
}

async function errorBody(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return JSON.parse((e as { body: string }).body) as unknown;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(!kubernetesOpenApiPresent)(
  kubernetesOpenApiPresent
    ? 'kubernetes emulator fidelity (OpenAPI v1.35 schemas)'
    : 'kubernetes emulator fidelity (../shared/fidelity absent)',
  () => {
    let k: KubernetesEmulator;
    let kc: KubeConfig;
    let schema: ReturnType<typeof buildKubernetesValidator>;

    const check = (doc: KubernetesOpenApiDoc, name: string, body: unknown) => {
      const validate = schema(doc, name);
      const ok = validate(body);
      expect(
        ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`),
      ).toEqual([]);
    };

    beforeAll(async () => {
      schema = buildKubernetesValidator();
      k = await startKubernetesEmulator({
        badImages: ['registry.local/web:broken'],
        objects: [
          deploymentObject('shop', 'web', 'registry.local/web:1.0', { requests: { cpu: '100m' } }),
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'tls', namespace: 'shop', labels: { a: 'b' } },
            type: 'kubernetes.io/tls',
            data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' },
          },
        ],
      });
      kc = await k.kubeConfig();
      await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment(
        {
          name: 'web',
          namespace: 'shop',
          body: {
            spec: {
              template: { spec: { containers: [{ name: 'app', image: 'registry.local/web:broken' }] } },
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      k.settle();
    });

    afterAll(async () => {
      await k?.close();
    });

    it('deployment, deployment list, replica set list and scale match apps/v1', async () => {
      const apps = kc.makeApiClient(AppsV1Api);
      const r = recorder();
      await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' }, r.options);
      check('apps', 'io.k8s.api.apps.v1.Deployment', await r.last());
      await apps.listNamespacedDeployment({ namespace: 'shop', limit: 1 }, r.options);
      check('apps', 'io.k8s.api.apps.v1.DeploymentList', await r.last());
      await apps.listNamespacedReplicaSet({ namespace: 'shop' }, r.options);
      check('apps', 'io.k8s.api.apps.v1.ReplicaSetList', await r.last());
      await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'shop' }, r.options);
      check('apps', 'io.k8s.api.autoscaling.v1.Scale', await r.last());
    });

    it('pods (running and crash-looping), events, secrets and namespaces match core/v1', async () => {
      const core = kc.makeApiClient(CoreV1Api);
      const r = recorder();
      await core.listNamespacedPod({ namespace: 'shop' }, r.options);
      const pods = (await r.last()) as {
        items: { status: { containerStatuses: { state: { waiting?: unknown } }[] } }[];
      };
      expect(pods.items.some((p) => p.status.containerStatuses[0]!.state.waiting)).toBe(true);
      check('core', 'io.k8s.api.core.v1.PodList', pods);
      await core.listNamespacedEvent({ namespace: 'shop' }, r.options);
      check('core', 'io.k8s.api.core.v1.EventList', await r.last());
      await core.readNamespacedSecret({ name: 'tls', namespace: 'shop' }, r.options);
      check('core', 'io.k8s.api.core.v1.Secret', await r.last());
      await core.listNamespace({}, r.options);
      check('core', 'io.k8s.api.core.v1.NamespaceList', await r.last());
    });

    it('pod logs: the parameters and the text/plain answer the OpenAPI declares, errors as metav1.Status', async () => {
      const doc = JSON.parse(
        readFileSync(join(KUBERNETES_OPENAPI_DIR, KUBERNETES_OPENAPI_DOCS.core), 'utf8'),
      ) as {
        paths: Record<
          string,
          { parameters: { name: string; in: string }[]; get: { responses: { 200: { content: object } } } }
        >;
      };
      const path = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/log']!;
      const declared = path.parameters.filter((p) => p.in === 'query').map((p) => p.name);
      expect(declared).toEqual(expect.arrayContaining([...POD_LOG_PARAMETERS]));
      expect(Object.keys(path.get.responses[200].content)).toContain('text/plain');

      const core = kc.makeApiClient(CoreV1Api);
      const pod = (await core.listNamespacedPod({ namespace: 'shop' })).items[0]!.metadata!.name!;
      const res = await fetch(`${k.url}/api/v1/namespaces/shop/pods/${pod}/log?tailLines=1`, {
        headers: { authorization: `Bearer ${k.token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(typeof (await core.readNamespacedPodLog({ name: pod, namespace: 'shop' }))).toBe('string');
      for (const bad of [
        core.readNamespacedPodLog({ name: pod, namespace: 'shop', container: 'nope' }),
        core.readNamespacedPodLog({ name: pod, namespace: 'shop', tailLines: -1 }),
        core.readNamespacedPodLog({ name: 'nope', namespace: 'shop' }),
      ])
        check('core', 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', await errorBody(bad));
    });

    it('error bodies are metav1.Status (404, 409, 422, 500)', async () => {
      const apps = kc.makeApiClient(AppsV1Api);
      check(
        'core',
        'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
        await errorBody(apps.readNamespacedDeployment({ name: 'nope', namespace: 'shop' })),
      );
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
      await apps.patchNamespacedDeployment(
        { name: 'web', namespace: 'shop', body: { metadata: { labels: { x: 'y' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      check(
        'core',
        'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
        await errorBody(apps.replaceNamespacedDeployment({ name: 'web', namespace: 'shop', body: d })),
      );
      check(
        'core',
        'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
        await errorBody(
          apps.patchNamespacedDeployment(
            { name: 'web', namespace: 'shop', body: { spec: { replicas: -1 } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
        ),
      );
      k.faults.add({ kind: 'throttle', times: 1 });
      check(
        'core',
        'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
        await errorBody(apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' })),
      );
      const deleted = await apps.deleteNamespacedDeployment(
        { name: 'web', namespace: 'shop', dryRun: 'All' },
        recorder().options,
      );
      expect(deleted.status).toBe('Success');
    });

    it('HPA matches autoscaling/v2 and role binding matches rbac/v1', async () => {
      const r = recorder();
      const hpa = kc.makeApiClient(AutoscalingV2Api);
      await hpa.createNamespacedHorizontalPodAutoscaler(
        {
          namespace: 'shop',
          body: {
            metadata: { name: 'web' },
            spec: {
              scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
              minReplicas: 1,
              maxReplicas: 4,
            },
          },
        },
        r.options,
      );
      check('autoscaling', 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler', await r.last());
      const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRoleBinding(
        {
          namespace: 'shop',
          body: {
            metadata: { name: 'view' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
            subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
          },
        },
        r.options,
      );
      check('rbac', 'io.k8s.api.rbac.v1.RoleBinding', await r.last());
      await rbac.listNamespacedRoleBinding({ namespace: 'shop' }, r.options);
      check('rbac', 'io.k8s.api.rbac.v1.RoleBindingList', await r.last());
    });

    it('flags a field the real API never sends', () => {
      const validate = schema('apps', 'io.k8s.api.apps.v1.Deployment');
      expect(
        validate({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'x' },
          spec: { selector: {}, template: {}, replicaz: 1 },
        }),
      ).toBe(false);
      expect(
        validate({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'x' },
          status: { conditions: [{ type: 'Available' }] },
        }),
      ).toBe(false);
    });
  },
);
