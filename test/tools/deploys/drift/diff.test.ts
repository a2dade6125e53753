import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuantity,
  diffObject,
  DesiredStateError,
  loadDesiredState,
} from '../../../../src/tools/deploys/drift/index.js';

const desired = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'orders', namespace: 'checkout', labels: { app: 'orders' } },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          {
            name: 'orders',
            image: 'registry.acme.test/shop/orders:6.1.2',
            imagePullPolicy: 'IfNotPresent',
            terminationMessagePath: '/dev/termination-log',
            ports: [{ containerPort: 8080, protocol: 'TCP' }],
            env: [
              { name: 'LOG_LEVEL', value: 'info' },
              { name: 'SERVICE_NAME', value: 'orders' },
            ],
            resources: { requests: { cpu: '1000m', memory: '1Gi' } },
          },
        ],
      },
    },
  },
};

function live(mut: (o: typeof desired & Record<string, unknown>) => void = () => {}) {
  const o = structuredClone(desired) as typeof desired & Record<string, unknown>;
  // What the server adds: status, identity, managed fields, annotations, defaults.
  Object.assign(o.metadata, {
    uid: 'u-1',
    resourceVersion: '42',
    generation: 7,
    creationTimestamp: '2026-01-01T00:00:00Z',
    managedFields: [{ manager: 'kubectl' }],
    annotations: {
      'deployment.kubernetes.io/revision': '9',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    },
  });
  o.status = { replicas: 3 };
  const c = o.spec.template.spec.containers[0]! as Record<string, unknown>;
  delete c.imagePullPolicy;
  delete c.terminationMessagePath;
  (c.ports as Record<string, unknown>[])[0]!.protocol = undefined;
  c.resources = { requests: { cpu: '1', memory: '1024Mi' } };
  (o.spec as Record<string, unknown>).revisionHistoryLimit = 10;
  mut(o);
  return o as unknown as Record<string, unknown>;
}

describe('diffObject', () => {
  it('finds no drift when only server-owned fields, defaults and quantity spellings differ', () => {
    expect(diffObject(desired, live())).toEqual([]);
  });

  it("does not count the record of the last rollout (change-cause, day2's approval) as drift", () => {
    const withAnnotations = {
      ...desired,
      metadata: { ...desired.metadata, annotations: { team: 'orders' } },
    };
    const signed = live((o) => {
      (o.metadata as Record<string, unknown>).annotations = {
        team: 'orders',
        'kubernetes.io/change-cause': 'day2: update_image by agent-7, approval apr_1',
        'day2.dev/approval-id': 'apr_1',
        'day2.dev/action-digest': 'ab12',
      };
    });
    expect(diffObject(withAnnotations, signed)).toEqual([]);
  });

  it('reports changed, removed and added paths keyed by name', () => {
    const changes = diffObject(
      desired,
      live((o) => {
        o.spec.replicas = 5;
        const env = o.spec.template.spec.containers[0]!.env;
        env[0]!.value = 'debug';
        env.splice(1, 1);
        env.push({ name: 'FEATURE_X', value: 'on' });
        (o.metadata as { labels: Record<string, string> }).labels = { app: 'orders', extra: 'yes' };
      }),
    );
    expect(changes).toEqual(
      expect.arrayContaining([
        { path: 'spec.replicas', op: 'changed', desired: 3, live: 5 },
        {
          path: 'spec.template.spec.containers[name=orders].env[name=LOG_LEVEL].value',
          op: 'changed',
          desired: 'info',
          live: 'debug',
        },
        {
          path: 'spec.template.spec.containers[name=orders].env[name=SERVICE_NAME]',
          op: 'removed',
          desired: { name: 'SERVICE_NAME', value: 'orders' },
        },
        {
          path: 'spec.template.spec.containers[name=orders].env[name=FEATURE_X]',
          op: 'added',
          live: { name: 'FEATURE_X', value: 'on' },
        },
        { path: 'metadata.labels.extra', op: 'added', live: 'yes' },
      ]),
    );
    expect(changes).toHaveLength(5);
  });

  it('quotes map keys that are not identifiers and compares quantities numerically', () => {
    const d = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'a' } },
    };
    expect(
      diffObject(d, { ...d, metadata: { name: 'x', labels: { 'app.kubernetes.io/name': 'b' } } })[0]!.path,
    ).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(canonicalQuantity('1000m')).toBe(canonicalQuantity('1'));
    expect(canonicalQuantity('1Gi')).toBe(canonicalQuantity('1024Mi'));
    expect(canonicalQuantity('500m')).not.toBe(canonicalQuantity('1'));
    expect(canonicalQuantity('abc')).toBeUndefined();
    const changed = diffObject(
      desired,
      live(
        (o) => (o.spec.template.spec.containers[0]!.resources = { requests: { cpu: '500m', memory: '1Gi' } }),
      ),
    );
    expect(changed).toEqual([
      {
        path: 'spec.template.spec.containers[name=orders].resources.requests.cpu',
        op: 'changed',
        desired: '1000m',
        live: '500m',
      },
    ]);
  });

  it('treats a missing non-default field as removed', () => {
    const changes = diffObject(
      desired,
      live((o) => delete (o.spec as Record<string, unknown>).replicas),
    );
    expect(changes).toEqual([{ path: 'spec.replicas', op: 'removed', desired: 3 }]);
  });
});

describe('loadDesiredState', () => {
  it('reads multi-document YAML and List objects from nested folders, and names broken files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'day2-desired-'));
    try {
      mkdirSync(join(dir, 'apps'));
      writeFileSync(
        join(dir, 'apps', 'a.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n---\napiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n',
      );
      const objs = await loadDesiredState(dir, { defaultNamespace: 'default' });
      expect(objs.map((o) => `${o.kind}/${o.namespace}/${o.name}@${o.file}`)).toEqual([
        'ConfigMap/n/a@apps/a.yaml',
        'ConfigMap/default/b@apps/a.yaml',
      ]);
      writeFileSync(join(dir, 'bad.yaml'), 'kind: ConfigMap\n');
      const err = await loadDesiredState(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DesiredStateError);
      expect((err as Error).message).toContain('bad.yaml document 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads the demo fleet desired state of prod without problems', async () => {
    const objs = await loadDesiredState(
      join(import.meta.dirname, '../../../../src/sandbox/fleet/desired/prod'),
    );
    expect(objs.find((o) => o.kind === 'Deployment' && o.name === 'orders')?.namespace).toBe('checkout');
  });
});
