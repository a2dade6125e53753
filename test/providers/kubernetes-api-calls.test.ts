import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GENERIC_KINDS,
  KUBERNETES_API_CALLS,
  type KubernetesProviderMethod,
} from '../../src/providers/kubernetes/api-calls.js';
import { createKubernetesProvider } from '../../src/providers/kubernetes/create-kubernetes-provider.js';
import type { KubernetesProvider } from '../../src/providers/kubernetes/types.js';
import { deploymentObject } from '../../src/sandbox/kubernetes/builders.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';

/** RBAC verbs no request shows: bind and escalate are checked on the role a write names. */
const UNSEEN = new Set(['bind', 'escalate']);

/** The RBAC view of one request: `group/resource[/sub] verb`, or undefined for discovery. */
function rbacOf(method: string, url: string): string | undefined {
  const { pathname, searchParams } = new URL(url, 'http://x');
  const parts = pathname.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  if (!rest || rest.length === 0) return undefined;
  const group = parts[0] === 'api' ? '' : parts[1]!;
  const [resource, name, sub] = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  const verb = {
    GET: name ? 'get' : searchParams.get('watch') === 'true' ? 'watch' : 'list',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: 'delete',
  }[method];
  return `${group || 'core'}/${resource}${sub ? `/${sub}` : ''} ${verb}`;
}

describe('the declared API calls of each provider method are the calls it makes', () => {
  let k: KubernetesEmulator;
  let proxy: Server;
  let p: KubernetesProvider;
  const seen: string[] = [];

  beforeAll(async () => {
    k = await startKubernetesEmulator({
      objects: [deploymentObject('shop', 'web', 'registry.local/web:1.0', { requests: { cpu: '100m' } })],
    });
    k.settle();
    // A loopback proxy in front of the emulator records every request the provider sends.
    const upstream = new URL(k.url);
    proxy = createServer((req, res) => {
      const r = rbacOf(req.method ?? 'GET', req.url ?? '/');
      if (r) seen.push(r);
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      req.pipe(out);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'proxy',
          server: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
          skipTLSVerify: true, // plain HTTP on loopback: client-node asks for this to allow it
        },
      ],
      users: [{ name: 'u', token: k.token }],
      contexts: [{ name: 'proxy', cluster: 'proxy', user: 'u' }],
      currentContext: 'proxy',
    });
    p = await createKubernetesProvider({ kubeConfig: kc, namespaces: ['shop'] });
  });

  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await k?.close();
  });

  /** Each method once (twice where what it sends depends on the state), in an order that works. */
  const runs: [KubernetesProviderMethod, (p: KubernetesProvider) => Promise<unknown>][] = [
    ['listDeployments', (p) => p.listDeployments()],
    ['getDeployment', (p) => p.getDeployment('shop', 'web')],
    ['listPods', (p) => p.listPods('shop')],
    ['listEvents', (p) => p.listEvents('shop', { kind: 'Deployment', name: 'web' })],
    [
      'getPodLogs',
      // The pod's name from the emulator's store, which is no request.
      (p) => p.getPodLogs('shop', k.store.list('v1', 'Pod', 'shop')[0]!.metadata.name, { tailLines: 5 }),
    ],
    ['listReplicaSets', (p) => p.listReplicaSets('shop', undefined, 'web')],
    ['scaleDeployment', (p) => p.scaleDeployment('shop', 'web', 2)],
    ['patchDeployment', (p) => p.patchDeployment('shop', 'web', { metadata: { labels: { a: 'b' } } })],
    ['restartDeployment', (p) => p.restartDeployment('shop', 'web')],
    ['setImage', (p) => p.setImage('shop', 'web', 'app', 'registry.local/web:1.1')],
    [
      'rollbackDeployment',
      async (p) => {
        k.settle();
        return p.rollbackDeployment('shop', 'web');
      },
    ],
    ['waitForRollout', (p) => p.waitForRollout('shop', 'web', { timeoutMs: 50, pollMs: 10 })],
    ['listHpas', (p) => p.listHpas('shop')],
    [
      'upsertHpa',
      async (p) => {
        const spec = {
          name: 'web',
          target: { name: 'web' },
          minReplicas: 2,
          maxReplicas: 4,
          targetCpuUtilization: 70,
        };
        await p.upsertHpa('shop', spec); // creates
        return p.upsertHpa('shop', { ...spec, maxReplicas: 5 }); // replaces
      },
    ],
    ['getHpa', (p) => p.getHpa('shop', 'web')],
    ['listSecrets', (p) => p.listSecrets('shop')],
    ['listConfigMaps', (p) => p.listConfigMaps('shop')],
    ['listRoleBindings', (p) => p.listRoleBindings('shop')],
    [
      'createRole',
      (p) =>
        p.createRole('shop', {
          name: 'web-edit',
          rules: [
            { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['get'] },
          ],
        }),
    ],
    [
      'createRoleBinding',
      (p) =>
        p.createRoleBinding('shop', {
          name: 'alice-web',
          role: { kind: 'Role', name: 'web-edit' },
          subjects: [{ kind: 'User', name: 'alice' }],
        }),
    ],
    ['deleteRoleBinding', (p) => p.deleteRoleBinding('shop', 'alice-web')],
    ['deleteRole', (p) => p.deleteRole('shop', 'web-edit')],
    ['listClusterRoleBindings', (p) => p.listClusterRoleBindings()],
    ['podMetrics', (p) => p.podMetrics('shop')],
    ['listServices', (p) => p.listServices('shop')],
    ['listEndpoints', (p) => p.listEndpoints('shop')],
    ['listPvcs', (p) => p.listPvcs('shop')],
    ['listResourceQuotas', (p) => p.listResourceQuotas('shop')],
    [
      'serverSideApply',
      (p) =>
        p.serverSideApply(
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'web-config', namespace: 'shop' },
            data: { a: 'b' },
          },
          { dryRun: true },
        ),
    ],
    ['getObject', (p) => p.getObject('apps/v1', 'Deployment', 'shop', 'web')],
    ['listObjects', (p) => p.listObjects('v1', 'Service', 'shop')],
  ];

  it('runs every method', () => {
    expect(runs.map(([m]) => m).sort()).toEqual(Object.keys(KUBERNETES_API_CALLS).sort());
  });

  it.each(runs)('%s', async (method, run) => {
    seen.length = 0;
    await run(p);
    const observed = [...new Set(seen)].sort();
    const decl = KUBERNETES_API_CALLS[method];
    if ('generic' in decl) {
      // The kind the call names, with the declared verbs; SSA's create is only asked for an absent object.
      const kinds = GENERIC_KINDS.map((g) => `${g.group || 'core'}/${g.resource}`);
      expect(observed.length).toBeGreaterThan(0);
      for (const o of observed) {
        const [resource, verb] = o.split(' ');
        expect(kinds).toContain(resource);
        expect(decl.verbs).toContain(verb);
      }
      return;
    }
    const declared = decl
      .flatMap((c) =>
        c.verbs.filter((v) => !UNSEEN.has(v)).map((v) => `${c.group || 'core'}/${c.resource} ${v}`),
      )
      .sort();
    expect(observed).toEqual([...new Set(declared)].sort());
  });
});
