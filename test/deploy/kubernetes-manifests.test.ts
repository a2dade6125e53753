import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeArgs } from '../../src/cli/serve-command.js';
import { checkConfig, loadConfig } from '../../src/config/load-config.js';
import { OriginPolicy } from '../../src/http/host-check.js';
import { findByKind } from '../../src/sandbox/kubernetes/resources.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';
import {
  buildKubernetesValidator,
  kubernetesOpenApiPresent,
  type KubernetesOpenApiDoc,
} from '../fidelity/kubernetes-openapi.js';
import { findObject, renderKustomization, type RenderedObject } from './render-kustomization.js';

/** Where each kind's schema is in ../shared/fidelity. */
const SCHEMAS: Record<string, [KubernetesOpenApiDoc, string]> = {
  'v1/Namespace': ['core', 'io.k8s.api.core.v1.Namespace'],
  'v1/ServiceAccount': ['core', 'io.k8s.api.core.v1.ServiceAccount'],
  'v1/ConfigMap': ['core', 'io.k8s.api.core.v1.ConfigMap'],
  'v1/Service': ['core', 'io.k8s.api.core.v1.Service'],
  'apps/v1/Deployment': ['apps', 'io.k8s.api.apps.v1.Deployment'],
  'rbac.authorization.k8s.io/v1/ClusterRole': ['rbac', 'io.k8s.api.rbac.v1.ClusterRole'],
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ['rbac', 'io.k8s.api.rbac.v1.ClusterRoleBinding'],
  'rbac.authorization.k8s.io/v1/RoleBinding': ['rbac', 'io.k8s.api.rbac.v1.RoleBinding'],
};

/**
 * Kinds ../shared/fidelity has no OpenAPI document for, and the emulator does not serve: checked
 * against the models @kubernetes/client-node generates from the Kubernetes OpenAPI instead.
 */
const MODEL_ONLY: Record<string, string> = {
  'networking.k8s.io/v1/NetworkPolicy': 'V1NetworkPolicy',
  'policy/v1/PodDisruptionBudget': 'V1PodDisruptionBudget',
};

const kindOf = (o: RenderedObject) => `${o.apiVersion}/${o.kind}`;

interface ModelClass {
  getAttributeTypeMap(): { name: string; baseName: string; type: string }[];
}

/** Every field of `value` is one the client-node model `type` knows, with a value of its type. */
function modelErrors(value: unknown, type: string, path: string): string[] {
  const array = /^Array<(.+)>$/.exec(type);
  if (array)
    return Array.isArray(value)
      ? value.flatMap((v, i) => modelErrors(v, array[1]!, `${path}/${i}`))
      : [`${path} is not an array`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map)
    return typeof value === 'object' && value !== null
      ? Object.entries(value).flatMap(([k, v]) => modelErrors(v, map[1]!, `${path}/${k}`))
      : [`${path} is not an object`];
  const primitive: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === 'string',
    number: (v) => typeof v === 'number',
    boolean: (v) => typeof v === 'boolean',
    IntOrString: (v) => typeof v === 'string' || typeof v === 'number',
  };
  if (primitive[type]) return primitive[type](value) ? [] : [`${path} is not ${type}`];
  const model = (k8s as unknown as Record<string, ModelClass | undefined>)[type];
  if (!model?.getAttributeTypeMap) throw new Error(`no client-node model ${type}`);
  if (typeof value !== 'object' || value === null) return [`${path} is not a ${type}`];
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([k, v]) =>
    fields.has(k)
      ? modelErrors(v, fields.get(k)!, `${path}/${k}`)
      : [`${path}/${k} is not a field of ${type}`],
  );
}

describe.each(['base', 'overlays/postgres'])('deploy/kubernetes/%s', (path) => {
  const objects = renderKustomization(path);

  it('renders every kind the tests know how to check', () => {
    expect(objects.map(kindOf).filter((k) => !SCHEMAS[k] && !MODEL_ONLY[k])).toEqual([]);
    // The kinds checked only against client-node's models are exactly those the emulator lacks.
    for (const k of Object.keys(SCHEMAS)) expect(findByKind(...splitKind(k)), k).toBeDefined();
    for (const k of Object.keys(MODEL_ONLY)) expect(findByKind(...splitKind(k)), k).toBeUndefined();
  });

  it('matches the client-node models of the kinds the fidelity OpenAPI lacks', () => {
    const checked = objects.filter((o) => MODEL_ONLY[kindOf(o)]);
    expect(checked.map((o) => o.kind).sort()).toEqual(['NetworkPolicy', 'PodDisruptionBudget']);
    for (const o of checked) expect(modelErrors(o, MODEL_ONLY[kindOf(o)]!, kindOf(o))).toEqual([]);
  });

  it('takes the image from the kustomize images entry', () => {
    const d = findObject(objects, 'Deployment', 'day2') as unknown as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(d.spec.template.spec.containers.map((c) => c.image)).toEqual(['registry.example.com/day2:0.1.0']);
  });

  it('carries a day2.yaml that day2 config check accepts, its store in the writable data volume', () => {
    const file = writeConfig(objects);
    const env = deploymentEnv(objects);
    expect(checkConfig({ path: file, env })).toMatchObject({ ok: true });
    const { store } = loadConfig({ path: file, env });
    if (path === 'base') {
      expect(store).toBe('/var/lib/day2/day2.db');
      const mount = deploymentContainer(objects).volumeMounts.find((m) =>
        store.startsWith(`${m.mountPath}/`),
      );
      expect(mount?.name).toBe('data');
    } else expect(store).toBe('postgres://day2@db.example/day2');
  });

  it('runs day2 serve --http as a non-root user on a read-only root filesystem, probed on /healthz', () => {
    const c = deploymentContainer(objects);
    expect(c.args.slice(0, 2)).toEqual(['serve', '--http']);
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    const d = findObject(objects, 'Deployment', 'day2') as unknown as {
      spec: { replicas: number; template: { spec: { securityContext: { runAsNonRoot: boolean } } } };
    };
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe])
      expect(probe.httpGet.path).toBe('/healthz');
  });

  it('serves on the port the probes, the Service and the NetworkPolicy name, and its Host check lets the probes and the Service name in', () => {
    const c = deploymentContainer(objects);
    const serve = parseServeArgs(c.args.slice(1));
    expect(serve).toMatchObject({ http: true, host: '0.0.0.0', config: '/etc/day2/day2.yaml' });
    const port = c.ports.find((p) => p.name === 'http')!.containerPort;
    expect(serve.port).toBe(port);
    const service = findObject(objects, 'Service', 'day2') as unknown as {
      spec: { ports: { port: number; targetPort: string }[] };
    };
    expect(service.spec.ports.map((p) => p.targetPort)).toEqual(['http']);
    const policy = findObject(objects, 'NetworkPolicy', 'day2') as unknown as {
      spec: { ingress: { ports: { port: number }[] }[] };
    };
    expect(policy.spec.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual([port]);
    const config = loadConfig({ path: writeConfig(objects), env: deploymentEnv(objects) }).config;
    const hosts = new OriginPolicy(port, { allowedHosts: config.http.allowed_hosts, allowedOrigins: [] });
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      expect(probe.httpGet.port).toBe('http');
      const host = probe.httpGet.httpHeaders.find((h) => h.name === 'Host')?.value;
      expect(hosts.hostAllowed(host), `probe Host ${host}`).toBe(true);
    }
    expect(hosts.hostAllowed(`day2.day2.svc:${service.spec.ports[0]!.port}`)).toBe(true);
    // Without the Host header the kubelet sends the pod's IP, which the check refuses.
    expect(hosts.hostAllowed(`10.0.0.7:${port}`)).toBe(false);
  });

  describe.skipIf(!kubernetesOpenApiPresent)(
    kubernetesOpenApiPresent
      ? 'against the Kubernetes v1.35 OpenAPI and the emulator'
      : 'against the Kubernetes OpenAPI (../shared/fidelity absent)',
    () => {
      let schema: ReturnType<typeof buildKubernetesValidator>;
      let emulator: KubernetesEmulator;
      let api: k8s.KubernetesObjectApi;

      const schemaErrors = (o: unknown, kind: string) => {
        const [doc, name] = SCHEMAS[kind]!;
        const validate = schema(doc, name);
        return validate(o)
          ? []
          : (validate.errors ?? []).map(
              (e) => `${kind} ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`,
            );
      };

      beforeAll(async () => {
        schema = buildKubernetesValidator();
        // A dry run creates nothing, the namespace day2 included: as on a real cluster, it exists first.
        emulator = await startKubernetesEmulator({
          objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'day2' } }],
        });
        api = k8s.KubernetesObjectApi.makeApiClient(await emulator.kubeConfig());
      });

      afterAll(async () => {
        await emulator?.close();
      });

      it('validates every object against its schema', () => {
        const checked = objects.filter((o) => SCHEMAS[kindOf(o)]);
        expect(checked.length).toBe(objects.length - Object.keys(MODEL_ONLY).length);
        for (const o of checked) expect(schemaErrors(o, kindOf(o))).toEqual([]);
      });

      it('server-side-applies every served object with a dry run, and the answers match the schemas', async () => {
        const served = objects.filter((o) => SCHEMAS[kindOf(o)]);
        for (const o of served) {
          const applied = await api.patch(
            o,
            undefined,
            'All',
            'day2-deploy',
            true,
            k8s.PatchStrategy.ServerSideApply,
          );
          const wire = JSON.parse(JSON.stringify(applied)) as RenderedObject;
          expect(wire.metadata.name).toBe(o.metadata.name);
          expect(schemaErrors(wire, kindOf(o))).toEqual([]);
        }
        // A dry run: nothing was stored.
        expect(emulator.writes).toBe(0);
        expect(emulator.store.get('apps/v1', 'Deployment', 'day2', 'day2')).toBeUndefined();
      });

      it('the emulator refuses a manifest the API server would refuse', async () => {
        const d = findObject(objects, 'Deployment', 'day2');
        const bad = { ...d, spec: { ...(d.spec as object), replicas: -1 } };
        await expect(
          api.patch(
            bad as k8s.KubernetesObject,
            undefined,
            'All',
            'day2-deploy',
            true,
            k8s.PatchStrategy.ServerSideApply,
          ),
        ).rejects.toMatchObject({ code: 422 });
      });
    },
  );
});

interface Probe {
  httpGet: { path: string; port: string; httpHeaders: { name: string; value: string }[] };
}

interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  volumeMounts: { name: string; mountPath: string }[];
  securityContext: Record<string, unknown>;
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe: Probe;
}

/** Folders the ConfigMap's day2.yaml was written to, removed when the file's tests end. */
const written: string[] = [];
afterAll(() => {
  for (const dir of written) rmSync(dir, { recursive: true, force: true });
});

/** The ConfigMap's day2.yaml, written to a file of its own. */
function writeConfig(objects: readonly RenderedObject[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'day2-deploy-'));
  written.push(dir);
  const file = join(dir, 'day2.yaml');
  writeFileSync(
    file,
    (findObject(objects, 'ConfigMap', 'day2-config').data as Record<string, string>)['day2.yaml']!,
  );
  return file;
}

function deploymentContainer(objects: readonly RenderedObject[]): Container {
  const d = findObject(objects, 'Deployment', 'day2') as unknown as {
    spec: { template: { spec: { containers: Container[] } } };
  };
  return d.spec.template.spec.containers[0]!;
}

/**
 * The container's environment with a stand-in value for each Secret key it references: values
 * never live in the manifests, only the references.
 */
function deploymentEnv(objects: readonly RenderedObject[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of deploymentContainer(objects).env) {
    expect(e.value, `${e.name} comes from a Secret`).toBeUndefined();
    const ref = e.valueFrom?.secretKeyRef;
    expect(ref, `${e.name} comes from a Secret`).toBeDefined();
    env[e.name] = ref!.name === 'day2-store' ? 'postgres://day2@db.example/day2' : `stand-in-${ref!.key}`;
  }
  return env;
}

function splitKind(k: string): [string, string] {
  const i = k.lastIndexOf('/');
  return [k.slice(0, i), k.slice(i + 1)];
}
