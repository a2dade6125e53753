import { mkdtemp, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { resolveFleetTime } from '../../src/sandbox/fleet/relative-time.js';
import { parseCpu, parseMemory } from '../../src/sandbox/fleet/quantity.js';
import { FleetLoadError, loadFleet, parseFleetText } from '../../src/sandbox/load-fleet.js';

const NOW = new Date('2026-11-26T12:00:00Z');

const MINIMAL = `name: tiny
environments:
  prod:
    tier: production
    namespaces: [shop]
    deployments:
      - namespace: shop
        name: web
        image: registry.acme.test/shop/web:1.0.0@sha256:${'a'.repeat(64)}
        replicas: 2
        revision: 3
        deployed: -12m
        history:
          - { revision: 2, image: "registry.acme.test/shop/web:0.9.0", deployed: -1d6h }
        resources: { requests: { cpu: 100m, memory: 128Mi } }
    secrets:
      aws:
        - { name: prod/web/db, value: { username: web, password: x }, created: -400d, last_rotated: -120d }
    alerts:
      - labels: { alertname: WebDown, service: web, env: prod, severity: critical }
        starts_at: -3m
    services:
      - { namespace: shop, name: web, selector: { app.kubernetes.io/name: web } }
`;

/** Folders the tests wrote fleets into; removed when they end. */
const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'day2-fleet-'));
  made.push(dir);
  return dir;
}

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, name), text);
  return join(dir, name);
}

describe('fleet times', () => {
  it('resolves relative and absolute times against a clock', () => {
    expect(resolveFleetTime('-12m', NOW).toISOString()).toBe('2026-11-26T11:48:00.000Z');
    expect(resolveFleetTime('-1d6h', NOW).toISOString()).toBe('2026-11-25T06:00:00.000Z');
    expect(resolveFleetTime('+30d', NOW).toISOString()).toBe('2026-12-26T12:00:00.000Z');
    expect(resolveFleetTime('now', NOW)).toEqual(NOW);
    expect(resolveFleetTime('2026-01-01T00:00:00Z', NOW).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(() => resolveFleetTime('12 minutes ago', NOW)).toThrow();
  });

  it('parses quantities', () => {
    expect(parseCpu('250m')).toBe(250);
    expect(parseCpu('1.5')).toBe(1500);
    expect(parseMemory('512Mi')).toBe(512 * 1024 * 1024);
    expect(parseMemory('1G')).toBe(1e9);
  });
});

describe('parsing a fleet', () => {
  it('resolves every time against the injected clock and derives pods and endpoints', async () => {
    const clock = new ManualClock(NOW.getTime());
    const file = await tempFile('fleet.yaml', MINIMAL);
    const a = await loadFleet(file, { clock });
    clock.advance(3_600_000);
    const b = await loadFleet(file, { clock });
    const da = a.fleet.environments.prod!.deployments[0]!;
    const db = b.fleet.environments.prod!.deployments[0]!;
    expect(da.deployed.toISOString()).toBe('2026-11-26T11:48:00.000Z');
    expect(db.deployed.toISOString()).toBe('2026-11-26T12:48:00.000Z');
    expect(da.history[0]!.deployed.toISOString()).toBe('2026-11-25T06:00:00.000Z');
    expect(a.fleet.environments.prod!.alerts[0]!.starts_at.toISOString()).toBe('2026-11-26T11:57:00.000Z');
    const secret = a.fleet.environments.prod!.secrets.aws[0]!;
    expect(secret.last_rotated.toISOString()).toBe('2026-07-29T12:00:00.000Z');
    expect(da.pods).toHaveLength(2);
    expect(
      da.pods.every((p) => p.phase === 'Running' && p.ready && p.started.getTime() === da.deployed.getTime()),
    ).toBe(true);
    expect(new Set(da.pods.map((p) => p.name)).size).toBe(2);
    expect(a.fleet.environments.prod!.services[0]!.endpoints.map((e) => e.pod).sort()).toEqual(
      da.pods.map((p) => p.name).sort(),
    );
    // A fleet that says nothing about rotation leaves day2.yaml's policy in force.
    expect(a.fleet.rotation_policy).toBeUndefined();
    expect(a.catalog.service('web')?.tags).toEqual(['kubernetes-only']);
  });

  it('names the file and the path of a bad field', () => {
    const bad = MINIMAL.replace('replicas: 2', 'replicas: two');
    expect(() => parseFleetText(bad, 'fleet.yaml', { now: NOW })).toThrow(FleetLoadError);
    try {
      parseFleetText(bad, 'fleet.yaml', { now: NOW });
    } catch (e) {
      expect((e as FleetLoadError).problems).toEqual([
        'fleet.yaml: environments.prod.deployments[0].replicas: expected a number (line 10)',
      ]);
      expect((e as Error).message).toContain(
        'fleet.yaml: environments.prod.deployments[0].replicas: expected a number',
      );
    }
  });

  it('collects every problem at once, including cross references', () => {
    const bad = MINIMAL.replace('deployed: -12m', 'deployed: yesterday')
      .replace('cpu: 100m', 'cpu: lots')
      .replace('env: prod, severity', 'env: staging, severity')
      .replace('name: web\n        image', 'name: web\n        colour: blue\n        image')
      .concat(
        '    hpas:\n      - { namespace: shop, name: api, target: api, min_replicas: 1, max_replicas: 3, cpu_target_percent: 70 }\n',
      );
    let problems: readonly string[] = [];
    try {
      parseFleetText(bad, 'f.yaml', { now: NOW });
    } catch (e) {
      problems = (e as FleetLoadError).problems;
    }
    const text = problems.join('\n');
    expect(text).toContain('f.yaml: environments.prod.deployments[0]: unknown field colour');
    expect(text).toContain('f.yaml: environments.prod.deployments[0].deployed: expected a time such as -12m');
    expect(text).toContain(
      'f.yaml: environments.prod.deployments[0].resources.requests.cpu: expected a CPU quantity',
    );
    expect(problems.length).toBeGreaterThanOrEqual(3);
    // cross references are checked once the fields are valid
    let cross: readonly string[] = [];
    try {
      parseFleetText(
        MINIMAL.replace('env: prod, severity', 'env: staging, severity').concat(
          '    hpas:\n      - { namespace: shop, name: api, target: api, min_replicas: 1, max_replicas: 3, cpu_target_percent: 70 }\n',
        ),
        'f.yaml',
        { now: NOW },
      );
    } catch (e) {
      cross = (e as FleetLoadError).problems;
    }
    expect(
      cross.some((p) =>
        p.startsWith(
          'f.yaml: environments.prod.hpas[0].target: deployment shop/api is not in this environment',
        ),
      ),
    ).toBe(true);
  });

  it('refuses a history newer than the current revision, and a missing secret', () => {
    const bad = MINIMAL.replace('revision: 2,', 'revision: 4,').replace(
      '        resources:',
      '        env: [{ name: DB_PASSWORD, secret_key_ref: { name: web-db, key: password } }]\n        resources:',
    );
    let problems: readonly string[] = [];
    try {
      parseFleetText(bad, 'f.yaml', { now: NOW });
    } catch (e) {
      problems = (e as FleetLoadError).problems;
    }
    expect(
      problems.some((p) =>
        p.startsWith(
          'f.yaml: environments.prod.deployments[0].history[0].revision: expected a revision below the current one (3)',
        ),
      ),
    ).toBe(true);
    const missing = MINIMAL.replace(
      '        resources:',
      '        env: [{ name: DB_PASSWORD, secret_key_ref: { name: web-db, key: password } }]\n        resources:',
    );
    expect(() => parseFleetText(missing, 'f.yaml', { now: NOW })).toThrow(
      /environments\.prod\.deployments\[0\]\.env\[0\]\.secret_key_ref\.name: secret shop\/web-db is not in this environment/,
    );
  });

  it('reports invalid YAML and unreadable files', async () => {
    expect(() => parseFleetText('name: [oops\n', 'y.yaml', { now: NOW })).toThrow(/y\.yaml: invalid YAML/);
    await expect(loadFleet('/nonexistent/fleet.yaml', { now: NOW })).rejects.toThrow(/cannot read/);
  });

  it('reports errors in the catalog files a fleet names, with their paths', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'catalog'));
    await writeFile(
      join(dir, 'catalog', 'web.yaml'),
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: web }\nspec: { type: service, lifecycle: production, owner: shop, dependsOn: [ledger] }\n',
    );
    await writeFile(join(dir, 'fleet.yaml'), MINIMAL.replace('name: tiny', 'name: tiny\ncatalog: [catalog]'));
    await expect(loadFleet(join(dir, 'fleet.yaml'), { now: NOW })).rejects.toThrow(
      'catalog/web.yaml: spec.dependsOn[0]: expected an entity ref such as component:default/ledger',
    );
  });
});
