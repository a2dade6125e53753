import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageWithoutDigest } from '../../src/sandbox/fleet-schema.js';
import type { FleetDeployment, FleetEnvironment } from '../../src/sandbox/fleet-schema.js';
import { parseCpu, parseMemory } from '../../src/sandbox/fleet/quantity.js';
import { builtinFleetPath, loadFleet } from '../../src/sandbox/load-fleet.js';
import { planPostgres } from '../../src/sandbox/seed/postgres.js';
import type { LoadedFleet } from '../../src/sandbox/load-fleet.js';

const NOW = new Date('2026-11-26T12:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
let loaded: LoadedFleet;
const env = (name: string): FleetEnvironment => loaded.fleet.environments[name]!;
const dep = (e: string, name: string): FleetDeployment => {
  const d = env(e).deployments.find((x) => x.name === name);
  if (!d) throw new Error(`no deployment ${name} in ${e}`);
  return d;
};
const version = (image: string) => imageWithoutDigest(image).split(':').pop()!;
const semver = (v: string) => v.split(/[.-]/).slice(0, 3).map(Number);
const newer = (a: string, b: string) => {
  const [x, y] = [semver(a), semver(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return false;
};

beforeAll(async () => {
  loaded = await loadFleet(builtinFleetPath(), { now: NOW });
});

describe('the demo fleet', () => {
  it('is found from the package root and loads with its catalog', () => {
    expect(existsSync(builtinFleetPath())).toBe(true);
    expect(builtinFleetPath()).toMatch(/src\/sandbox\/fleet\/demo\.yaml$/);
    expect(loaded.now).toEqual(NOW);
    expect(loaded.catalog.warnings).toEqual([]);
  });

  it('has dev, staging and prod with their tiers and databases', () => {
    expect(
      Object.fromEntries(Object.entries(loaded.fleet.environments).map(([k, v]) => [k, v.tier])),
    ).toEqual({ prod: 'production', staging: 'staging', dev: 'development' });
    expect(env('prod').databases.orders).toEqual({
      database: 'orders_prod',
      host: '127.0.0.1',
      port: 5432,
      owner_role: 'orders_owner',
    });
    expect(env('staging').databases.payments!.database).toBe('payments_staging');
  });

  it('has at least 12 catalog services owned by several teams with members and Slack', () => {
    const catalogServices = loaded.catalog.services().filter((s) => !s.tags.includes('kubernetes-only'));
    expect(catalogServices.length).toBeGreaterThanOrEqual(12);
    for (const n of [
      'web-frontend',
      'api-gateway',
      'checkout',
      'payment-service',
      'cart',
      'catalog-api',
      'search',
      'inventory',
      'orders',
      'notifications',
      'user-service',
      'fraud-detector',
      'shipping',
      'recommendation',
      'reporting-batch',
    ]) {
      expect(loaded.catalog.service(n), n).toBeDefined();
    }
    const owners = new Set(catalogServices.map((s) => s.owner));
    expect(owners.size).toBeGreaterThanOrEqual(5);
    for (const o of owners) {
      const g = loaded.catalog.group(o!)!;
      expect(g.members.length, o).toBeGreaterThan(0);
      expect(g.slack, o).toMatch(/^#/);
      expect(g.email, o).toMatch(/@/);
    }
  });

  it('links every catalog service to a workload in every environment', () => {
    for (const s of loaded.catalog.services()) {
      for (const e of ['prod', 'staging', 'dev']) {
        const w = loaded.catalog.workloadFor(s.id, e);
        expect(w, `${s.id} in ${e}`).toBeDefined();
        expect(
          env(e).deployments.some((d) => d.namespace === w!.namespace && d.name === w!.name),
          `${s.id} in ${e}`,
        ).toBe(true);
      }
    }
    expect(loaded.catalog.workloadFor('user-service', 'dev')!.name).toBe('user-service-dev');
  });

  it('shares databases and a queue between services', () => {
    expect(loaded.catalog.resource('orders-db')!.dependents).toEqual(
      expect.arrayContaining(['orders', 'checkout']),
    );
    expect(loaded.catalog.resource('payments-db')!.dependents).toEqual(
      expect.arrayContaining(['payment-service', 'fraud-detector']),
    );
    expect(loaded.catalog.resource('order-events')!.type).toBe('queue');
    expect(loaded.catalog.service('checkout')!.databases).toEqual(['orders']);
    const impact = loaded.catalog
      .dependencyImpact('payments-db', { direction: 'downstream' })
      .nodes.map((n) => n.id);
    expect(impact).toEqual(
      expect.arrayContaining([
        'payment-service',
        'fraud-detector',
        'checkout',
        'api-gateway',
        'web-frontend',
      ]),
    );
  });

  it('keeps a service found only on Kubernetes and reports an owner conflict', () => {
    const ff = loaded.catalog.service('feature-flags')!;
    expect(ff.tags).toContain('kubernetes-only');
    expect(ff.owner).toBe('platform-team');
    const c = loaded.catalog.conflicts.find((x) => x.entity === 'fraud-detector' && x.field === 'owner')!;
    expect(c.values.map((v) => v.value)).toEqual(expect.arrayContaining(['payments-team', 'risk-team']));
  });

  it('describes deployments fully: digests, resources, labels, secret references, pods, HPAs', () => {
    for (const e of ['prod', 'staging', 'dev']) {
      for (const d of env(e).deployments) {
        expect(d.image, d.name).toMatch(/:[\w.-]+@sha256:[0-9a-f]{64}$/);
        expect(parseCpu(d.resources.requests.cpu)).toBeGreaterThan(0);
        expect(d.labels['app.kubernetes.io/name']).toBeTruthy();
        expect(d.pods.length).toBe(d.replicas);
        expect(d.usage, `${e}/${d.name} has metrics`).toBeDefined();
      }
    }
    const checkout = dep('prod', 'checkout');
    expect(checkout.env.find((v) => v.name === 'DB_PASSWORD')!.secret_key_ref).toEqual({
      name: 'checkout-db',
      key: 'password',
    });
    expect(checkout.env_from).toEqual([{ config_map: 'checkout-config' }]);
    expect(dep('prod', 'payment-service').env_from).toEqual([{ secret: 'payment-service-env' }]);
    expect(dep('prod', 'web-frontend').volumes[0]).toMatchObject({
      secret: 'storefront-tls',
      mount_path: '/etc/tls',
    });
    expect(env('prod').hpas.map((h) => h.target)).toEqual(
      expect.arrayContaining(['api-gateway', 'checkout']),
    );
    const pod = checkout.pods[0]!;
    expect(pod.name).toMatch(new RegExp(`^checkout-${checkout.pod_template_hash}-[a-z0-9]{5}$`));
    expect(pod.labels['pod-template-hash']).toBe(checkout.pod_template_hash);
  });

  it('fires an alert on prod checkout a few minutes after its latest deploy, with the previous revision known', () => {
    const d = dep('prod', 'checkout');
    expect(d.deployed).toEqual(new Date(NOW.getTime() - 12 * MIN));
    const prev = d.history[0]!;
    expect(prev.revision).toBe(d.revision - 1);
    expect(version(prev.image)).toBe('2.7.3');
    expect(version(d.image)).toBe('2.8.0');
    const alert = env('prod').alerts.find(
      (a) => a.labels.service === 'checkout' && a.labels.severity === 'critical' && !a.ends_at,
    )!;
    const after = alert.starts_at.getTime() - d.deployed.getTime();
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(10 * MIN);
    expect(alert.annotations.runbook_url).toMatch(/^https:\/\//);
    const monitor = env('prod').monitors.find(
      (m) => m.tags.includes('service:checkout') && m.overall_state === 'Alert',
    )!;
    expect(monitor.tags).toContain('env:prod');
    expect(loaded.fleet.bad_images.find((b) => b.image === imageWithoutDigest(d.image))?.effect).toBe(
      'errors',
    );
  });

  it('runs newer versions in staging than in prod for some services', () => {
    const ahead = env('staging').deployments.filter((s) => {
      const p = env('prod').deployments.find((x) => x.name === s.name);
      return p && newer(version(s.image), version(p.image));
    });
    expect(ahead.map((d) => d.name)).toEqual(expect.arrayContaining(['cart', 'search', 'user-service']));
  });

  it('has a prod object edited by hand that differs from the desired state', async () => {
    const live = dep('prod', 'orders');
    expect(live.annotations['day2.dev/hand-edited']).toMatch(/kubectl edit/);
    const text = await readFile(join(loaded.desiredState.prod!, 'checkout.yaml'), 'utf8');
    const manifests = parseAllDocuments(text).map(
      (d) =>
        d.toJS() as {
          metadata: { name: string };
          spec: {
            replicas: number;
            template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
          };
        },
    );
    const desired = manifests.find((m) => m.metadata.name === 'orders')!;
    expect(desired.spec.replicas).toBe(3);
    expect(live.replicas).toBe(5);
    expect(desired.spec.template.spec.containers[0]!.env.find((e) => e.name === 'LOG_LEVEL')!.value).toBe(
      'info',
    );
    expect(live.env.find((e) => e.name === 'LOG_LEVEL')!.value).toBe('debug');
  });

  it('keeps the desired state equal to live everywhere else', async () => {
    for (const [e, dir] of Object.entries(loaded.desiredState)) {
      const seen = new Set<string>();
      for (const f of await readdir(dir)) {
        for (const doc of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) {
          const m = doc.toJS() as {
            kind: string;
            metadata: { name: string; namespace: string };
            spec: {
              replicas: number;
              template: {
                spec: { containers: { image: string; env: { name: string; value?: string }[] }[] };
              };
            };
          };
          expect(m.kind).toBe('Deployment');
          const live = dep(e, m.metadata.name);
          expect(live.namespace).toBe(m.metadata.namespace);
          seen.add(live.name);
          if (e === 'prod' && live.name === 'orders') continue;
          expect(m.spec.replicas, `${e}/${live.name}`).toBe(live.replicas);
          const c = m.spec.template.spec.containers[0]!;
          expect(c.image).toBe(live.image);
          expect(c.env.filter((v) => v.value !== undefined)).toEqual(
            live.env.filter((v) => v.value !== undefined).map((v) => ({ name: v.name, value: v.value })),
          );
        }
      }
      // everything but the helm-managed feature-flags is in git
      expect([...env(e).deployments.map((d) => d.name)].filter((n) => !seen.has(n))).toEqual([
        'feature-flags',
      ]);
    }
  });

  it('has an idle dev deployment and an over-requested prod service', () => {
    const idle = env('dev').deployments.filter(
      (d) => d.replicas > 0 && d.usage!.cpu_millicores <= 2 && d.replicas >= 2,
    );
    expect(idle.map((d) => d.name)).toContain('recommendation');
    const over = dep('prod', 'reporting-batch');
    expect(parseCpu(over.resources.requests.cpu) / over.usage!.cpu_millicores).toBeGreaterThan(10);
    expect(parseMemory(over.resources.requests.memory) / over.usage!.memory_bytes).toBeGreaterThan(10);
  });

  it('has a crash-looping pod on a bad image', () => {
    const d = dep('staging', 'notifications');
    const pod = d.pods.find((p) => p.reason === 'CrashLoopBackOff')!;
    expect(pod.ready).toBe(false);
    expect(pod.restarts).toBeGreaterThan(3);
    expect(pod.last_restart!.getTime()).toBeLessThan(NOW.getTime());
    expect(d.ready_replicas).toBe(0);
    expect(loaded.fleet.bad_images.find((b) => b.image === imageWithoutDigest(d.image))?.effect).toBe(
      'crashloop',
    );
    expect(version(d.history[0]!.image)).toBe('4.0.2');
    expect(
      env('staging').alerts.some(
        (a) => a.labels.alertname === 'KubePodCrashLooping' && a.labels.service === 'notifications',
      ),
    ).toBe(true);
  });

  it('has database secrets with varied rotation ages and rules', () => {
    const policy = loaded.fleet.rotation_policy!;
    expect(policy).toEqual({ max_age_days: 90, warn_days: 14 });
    const aws = env('prod').secrets.aws;
    const age = (name: string) =>
      (NOW.getTime() - aws.find((s) => s.name === name)!.last_rotated.getTime()) / DAY;
    const db = aws.find((s) => s.name === 'prod/payment-service/db')!;
    expect(Object.keys(db.value as object).sort()).toEqual([
      'dbname',
      'engine',
      'host',
      'password',
      'port',
      'username',
    ]);
    expect(db.database).toBe('payments');
    expect(age('prod/payment-service/db')).toBeGreaterThan(policy.max_age_days);
    const dueSoon = aws.filter((s) => {
      const a = (NOW.getTime() - s.last_rotated.getTime()) / DAY;
      return a <= policy.max_age_days && a > policy.max_age_days - policy.warn_days;
    });
    expect(dueSoon.map((s) => s.name)).toContain('prod/orders/db');
    expect(aws.some((s) => s.rotation.enabled && s.rotation.automatically_after_days === 30)).toBe(true);
    expect(loaded.catalog.secretsFor('payment-service', 'prod').map((r) => r.name)).toContain(
      'prod/payment-service/db',
    );
  });

  it('gives every environment its own database roles, since one PostgreSQL server hosts them all', () => {
    // A role is server-wide: were staging and prod to share one, rotating staging would change prod's password.
    const plan = planPostgres(loaded.fleet);
    expect(plan.notes).toEqual([]);
    const roleEnvs = new Map<string, Set<string>>();
    for (const [name, e] of Object.entries(loaded.fleet.environments))
      for (const s of e.secrets.aws)
        if (s.database && typeof s.value === 'object' && typeof s.value.username === 'string')
          roleEnvs.set(s.value.username, (roleEnvs.get(s.value.username) ?? new Set()).add(name));
    expect(roleEnvs.size).toBeGreaterThanOrEqual(24);
    expect([...roleEnvs].filter(([, envs]) => envs.size > 1)).toEqual([]);
    expect(plan.logins.get('payments_app')?.env).toBe('prod');
    expect(plan.logins.get('payments_staging_app')?.env).toBe('staging');
  });

  it('has a TLS secret with a real certificate and its key', () => {
    const tls = env('prod').secrets.k8s.find((s) => s.type === 'kubernetes.io/tls')!;
    const cert = new X509Certificate(tls.data['tls.crt']!);
    expect(cert.subject).toContain('CN=shop.acme.test');
    expect(cert.checkPrivateKey(createPrivateKey(tls.data['tls.key']!))).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(NOW.getTime());
  });

  it('has monitors in Alert and Warn, and alerts with a prompt injection in an annotation', () => {
    const states = new Set(env('prod').monitors.map((m) => m.overall_state));
    expect(states).toEqual(new Set(['Alert', 'Warn', 'OK', 'No Data']));
    for (const m of env('prod').monitors) {
      expect(m.tags.some((t) => t.startsWith('service:'))).toBe(true);
      expect(m.tags).toContain('env:prod');
    }
    const injected = env('prod').alerts.find((a) =>
      /ignore your (previous )?instructions/i.test(a.annotations.description ?? ''),
    )!;
    expect(injected.annotations.description).toMatch(/approve/i);
    for (const a of env('prod').alerts)
      expect(Object.keys(a.labels)).toEqual(
        expect.arrayContaining(['alertname', 'service', 'env', 'severity']),
      );
    expect(env('prod').alerts.some((a) => a.ends_at && a.ends_at < NOW)).toBe(true);
  });

  it('has cost orphans and a standing admin binding', () => {
    const prod = env('prod');
    expect(prod.pvcs.find((p) => p.phase === 'Pending')!.name).toBe('old-exports');
    expect(prod.pvcs.find((p) => p.name === 'reporting-scratch')!.mounted_by).toEqual(['reporting-batch']);
    expect(
      prod.pvcs.filter((p) => p.phase === 'Bound' && p.mounted_by.length === 0).map((p) => p.name),
    ).toEqual(['search-snapshots-legacy']);
    expect(prod.services.filter((s) => s.endpoints.length === 0).map((s) => s.name)).toEqual([
      'checkout-canary',
    ]);
    expect(prod.services.find((s) => s.name === 'checkout')!.endpoints).toHaveLength(
      dep('prod', 'checkout').replicas,
    );
    expect(prod.configmaps.filter((c) => c.referenced_by.length === 0).map((c) => c.name)).toEqual([
      'holiday-banner-2025',
    ]);
    const admin = prod.rolebindings.find((r) => r.role.name === 'admin')!;
    expect(admin.labels['app.kubernetes.io/managed-by']).not.toBe('day2');
    expect(admin.subjects[0]!.kind).toBe('User');
  });

  it('marks bad images and keeps a registry with newer tags for patching', () => {
    expect(loaded.fleet.bad_images.length).toBeGreaterThanOrEqual(3);
    const tags = loaded.fleet.registry!.repositories['shop/api-gateway']!;
    expect(tags).toContain('3.4.2');
    for (const e of Object.values(loaded.fleet.environments)) {
      for (const d of e.deployments) {
        const [repo, tag] = imageWithoutDigest(d.image).replace('registry.acme.test/', '').split(':');
        expect(loaded.fleet.registry!.repositories[repo!], d.image).toContain(tag);
      }
    }
  });
});
