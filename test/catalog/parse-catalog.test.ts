import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load-catalog.js';
import { parseCatalogText } from '../../src/catalog/parse-catalog.js';
import { component, writeTree } from './fixtures.js';

const GOOD = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: payments-team, title: Payments }
spec:
  type: team
  profile: { displayName: Payments team, email: payments@acme.test, slack: "#payments" }
  children: []
  members: [alice, user:default/bob]
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: { name: payments }
spec: { owner: payments-team }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payment-service
  title: Payment service
  annotations:
    day2.dev/kubernetes-workload: "payments/payment-service, dev=sandbox/payments"
    backstage.io/kubernetes-id: payment-service
    day2.dev/secrets: "{env}/payment-service/db, k8s:payments/payment-service-env"
    day2.dev/database: payments
    day2.dev/db-role: payment_app
    day2.dev/runbook: https://runbooks.acme.test/payment-service
    day2.dev/tier: critical
    day2.dev/datadog-service: payments-api
    pagerduty.com/service-id: PX1234
  links:
    - { url: "https://wiki.acme.test/payments/failover", title: "Failover runbook" }
    - { url: "https://grafana.acme.test/d/payments", title: Dashboard }
spec:
  type: service
  lifecycle: production
  owner: group:default/payments-team
  system: payments
  dependsOn: [component:ledger, resource:payments-db]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger }
spec: { type: service, lifecycle: production, owner: payments-team, system: payments }
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: { name: payments-db, annotations: { day2.dev/database: payments } }
spec: { type: database, owner: payments-team, system: payments }
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: { name: payments-api }
spec: { type: openapi, lifecycle: production, owner: payments-team, definition: "openapi: 3.0.0" }
`;

describe('catalog parsing', () => {
  it('reads every kind day2 uses and skips the others', () => {
    const parsed = parseCatalogText(GOOD, 'catalog/payments.yaml');
    expect(parsed.errors).toEqual([]);
    expect(parsed.entities.map((e) => e.kind)).toEqual([
      'group',
      'system',
      'component',
      'component',
      'resource',
    ]);
    expect(parsed.ignored).toEqual(['api:payments-api@catalog/payments.yaml']);
  });

  it('understands the day2 annotations', async () => {
    const root = await writeTree({ 'catalog-info.yaml': GOOD });
    const { catalog, errors } = await loadCatalog([root]);
    expect(errors).toEqual([]);
    const svc = catalog.service('payment-service')!;
    expect(svc).toMatchObject({
      id: 'payment-service',
      ref: 'component:default/payment-service',
      title: 'Payment service',
      owner: 'payments-team',
      system: 'payments',
      tier: 'critical',
      dbRole: 'payment_app',
      datadogService: 'payments-api',
      pagerdutyServiceId: 'PX1234',
      kubernetesId: 'payment-service',
      dependsOn: ['ledger', 'resource:payments-db'],
      databases: ['payments'],
    });
    expect(svc.runbooks).toEqual([
      'https://runbooks.acme.test/payment-service',
      'https://wiki.acme.test/payments/failover',
    ]);
    expect(catalog.workloadFor('payment-service', 'prod')).toMatchObject({
      namespace: 'payments',
      name: 'payment-service',
    });
    expect(catalog.workloadFor('payment-service', 'dev')).toMatchObject({
      namespace: 'sandbox',
      name: 'payments',
    });
    expect(catalog.secretsFor('payment-service', 'prod')).toEqual([
      { store: 'aws', name: 'prod/payment-service/db' },
      { store: 'k8s', namespace: 'payments', name: 'payment-service-env' },
    ]);
    expect(catalog.service('ledger')!.dependents).toEqual(['payment-service']);
    expect(catalog.resource('payments-db')).toMatchObject({
      id: 'resource:payments-db',
      database: 'payments',
      dependents: ['payment-service'],
    });
    const team = catalog.group('payments-team')!;
    expect(team).toMatchObject({
      displayName: 'Payments team',
      email: 'payments@acme.test',
      slack: '#payments',
      members: ['alice', 'bob'],
    });
    expect(team.services).toEqual(['payment-service', 'ledger']);
    expect(catalog.system('payments')!.services).toEqual(['payment-service', 'ledger']);
    expect(catalog.service('component:default/payment-service')?.id).toBe('payment-service');
    expect(catalog.warnings).toEqual([]);
  });

  it('collects every error with the file, the document and the path inside it', () => {
    const bad = [
      component('ok', { owner: 'team-a' }),
      component('payments', { owner: 'team-a', dependsOn: ['component:ledger', 'ledger'] }),
      component(
        'tiered',
        { owner: 'team-a' },
        { 'day2.dev/tier': 'gold', 'day2.dev/kubernetes-workload': 'nonamespace' },
      ),
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: "bad name!" }\nspec: { type: service }\n',
    ].join('---\n');
    const parsed = parseCatalogText(bad, 'catalog/payments.yaml');
    const texts = parsed.errors.map((e) => e.text);
    expect(texts).toContain(
      'catalog/payments.yaml: document 2: spec.dependsOn[1]: expected an entity ref such as component:default/ledger (line 11)',
    );
    expect(
      texts.some((t) =>
        t.startsWith(
          'catalog/payments.yaml: document 3: metadata.annotations["day2.dev/tier"]: expected critical or standard',
        ),
      ),
    ).toBe(true);
    expect(
      texts.some((t) =>
        t.startsWith(
          'catalog/payments.yaml: document 3: metadata.annotations["day2.dev/kubernetes-workload"]: expected [env=]namespace/deployment',
        ),
      ),
    ).toBe(true);
    expect(
      texts.some((t) => t.startsWith('catalog/payments.yaml: document 4: metadata.name: expected a name')),
    ).toBe(true);
    expect(parsed.entities.map((e) => e.metadata.name)).toEqual(['ok']);
  });

  it('names the missing field', () => {
    const parsed = parseCatalogText(
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: x }\nspec: { type: service, owner: a }\n',
      'c.yaml',
    );
    expect(parsed.errors.map((e) => e.text)).toEqual([
      'c.yaml: spec.lifecycle: required (expected a string) (line 4)',
    ]);
  });

  it('reports broken YAML with its line', () => {
    const parsed = parseCatalogText('apiVersion: backstage.io/v1alpha1\nkind: [unclosed\n', 'broken.yaml');
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]!.text).toMatch(/^broken\.yaml: invalid YAML: /);
  });

  it('searches folders recursively and reads only Backstage files', async () => {
    const root = await writeTree({
      'a/catalog-info.yaml': component('alpha', { owner: 'team-a' }),
      'a/b/extra.yml': component('beta', { owner: 'team-a' }),
      'a/b/values.yaml': 'replicaCount: 3\nimage: { tag: latest }\n',
      'a/node_modules/x/catalog-info.yaml': component('ignored', { owner: 'team-a' }),
      'a/notes.txt': 'not yaml',
    });
    const { catalog, errors, files } = await loadCatalog(['a'], { baseDir: root });
    expect(errors).toEqual([]);
    expect(files).toEqual(['a/b/extra.yml', 'a/catalog-info.yaml']);
    expect(catalog.services().map((s) => s.id)).toEqual(['alpha', 'beta']);
    // owners that do not exist are warnings, not errors
    expect(catalog.warnings).toContain('alpha is owned by team-a, which is not a group in the catalog');
  });

  it('reports a missing path and a duplicate definition', async () => {
    const root = await writeTree({
      'one.yaml': component('dup', { owner: 'team-a' }),
      'two.yaml': component('dup', { owner: 'team-b' }),
    });
    const { catalog, errors } = await loadCatalog(['one.yaml', 'two.yaml', 'missing'], { baseDir: root });
    expect(errors.map((e) => e.text)).toEqual(['missing: no such file or folder']);
    expect(catalog.service('dup')!.owner).toBe('team-a');
    expect(catalog.conflicts).toEqual([
      {
        entity: 'dup',
        field: 'definition',
        values: [
          { source: 'one.yaml', value: 'defined' },
          { source: 'two.yaml', value: 'defined again' },
        ],
      },
    ]);
  });
});
