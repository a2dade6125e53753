/**
 * Credential rotation: one rotation with 5 dependents over emulators answering with 50 ms of
 * latency (target: day2's own overhead <= 5 % of the wall time, the rest being backend calls and
 * waits), and the credential inventory over 2,000 secrets (target <= 1 s).
 * Needs the PostgreSQL at 127.0.0.1:5432 (trust auth). Run: npm exec -- tsx bench/rotation.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { systemClock } from '../src/core/clock.js';
import { configSchema } from '../src/config/schema.js';
import type { Deps } from '../src/contract/deps.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import type { Backends } from '../src/providers/backends.js';
import { PostgresProvider } from '../src/providers/postgres/postgres-provider.js';
import { createSecretsManagerProvider } from '../src/providers/secrets-manager/aws-provider.js';
import { collectCredentials } from '../src/tools/secrets/rotation/inventory.js';
import { planRotation } from '../src/tools/secrets/rotation/plan-rotation.js';
import { runRotation } from '../src/tools/secrets/rotation/run-rotation.js';
import { startSandbox } from '../src/sandbox/start-sandbox.js';
import { openStore } from '../src/store/open-store.js';
import { round } from './stats.js';

const out = (line: string) => process.stdout.write(line + '\n');
const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const role = `bench_rot_${randomUUID().slice(0, 8)}`;
const SECRET = `prod/bench/${role}`;
const LATENCY_MS = 50;

/** Wall time during which at least one backend call is in flight (parallel calls count once). */
class BusyClock {
  ms = 0;
  private active = 0;
  private since = 0;
  enter(): void {
    if (this.active++ === 0) this.since = performance.now();
  }
  leave(): void {
    if (--this.active === 0) this.ms += performance.now() - this.since;
  }
}

/** Wraps every method of a provider so that the time spent inside backend calls is measured. */
function timedProxy<T extends object>(target: T, busy: BusyClock): T {
  return new Proxy(target, {
    get(t, key, recv) {
      const v = Reflect.get(t, key, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        busy.enter();
        let r: unknown;
        try {
          r = (v as (...a: unknown[]) => unknown).apply(t, args);
        } catch (err) {
          busy.leave();
          throw err;
        }
        if (r instanceof Promise) return r.finally(() => busy.leave());
        busy.leave();
        return r;
      };
    },
  });
}

const dir = mkdtempSync(join(tmpdir(), 'day2-bench-rotation-'));
const admin = new pg.Client({ connectionString: ADMIN });
await admin.connect();
await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'bench-initial-${randomUUID()}'`);
const redactor = new Redactor();
const sandbox = await startSandbox({
  postgres: false,
  alertmanager: false,
  log: silentLogger,
  redactor,
  env: process.env,
});
try {
  const config = configSchema.parse({
    environments: {
      ...sandbox.environments,
      prod: { ...sandbox.environments.prod, databases: { bench: { url: ADMIN } } },
    },
    rotation: { verify_window: 1000, restart_timeout: 60_000 },
  });
  const backendMs = new BusyClock();
  const secrets = createSecretsManagerProvider({
    redactor,
    region: 'eu-west-1',
    prefix: 'prod/',
    endpoint: sandbox.emulators.secretsManager.url,
    credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'bench' },
    listLimit: 100_000,
  });
  const postgres = new PostgresProvider(config, { env: {} });
  const backends: Backends = {
    has: (e, b) => sandbox.backends.has(e, b),
    kubernetes: (e) => timedProxy(sandbox.backends.kubernetes(e), backendMs),
    datadog: (e) => timedProxy(sandbox.backends.datadog(e), backendMs),
    alertmanager: (e) => sandbox.backends.alertmanager(e),
    registry: (e) => sandbox.backends.registry(e),
    secrets: (e) => timedProxy(e === 'prod' ? secrets : sandbox.backends.secrets(e), backendMs),
    postgres: timedProxy(postgres, backendMs),
  };
  const store = await openStore(join(dir, 'day2.db'), { clock: systemClock });
  const deps: Deps = {
    config,
    store,
    clock: systemClock,
    log: silentLogger,
    redactor,
    backends,
    catalog: sandbox.catalog,
    notifier: { send: () => Promise.resolve() },
  };

  // The secret, a Kubernetes copy of it, and 5 deployments that read the copy.
  const sdk = new SecretsManagerClient({
    region: 'eu-west-1',
    endpoint: sandbox.emulators.secretsManager.url,
    credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'bench' },
  });
  await sdk.send(
    new CreateSecretCommand({
      Name: SECRET,
      SecretString: JSON.stringify({
        engine: 'postgres',
        username: role,
        password: `bench-${randomUUID()}`,
        host: '127.0.0.1',
        port: 5432,
        dbname: 'postgres',
      }),
    }),
  );
  const k8s = sandbox.backends.kubernetes('prod');
  const targets = (await k8s.listDeployments()).slice(0, 5);
  for (const ns of new Set(targets.map((d) => d.namespace)))
    await k8s.serverSideApply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-db', namespace: ns, annotations: { 'day2.dev/synced-from': `aws:${SECRET}` } },
      type: 'Opaque',
      stringData: { note: 'bench' },
    });
  for (const d of targets) {
    await k8s.patchDeployment(
      d.namespace,
      d.name,
      {
        spec: {
          template: {
            spec: {
              containers: [{ name: d.images[0]!.container, envFrom: [{ secretRef: { name: 'bench-db' } }] }],
            },
          },
        },
      },
      { type: 'strategic' },
    );
    await k8s.waitForRollout(d.namespace, d.name, { timeoutMs: 30_000 });
  }

  sandbox.emulators.kubernetes.prod!.faults.add({ kind: 'latency', latencyMs: LATENCY_MS });
  sandbox.emulators.secretsManager.faults.add({ kind: 'latency', latencyMs: LATENCY_MS });
  sandbox.emulators.datadog.faults.add({ kind: 'latency', latencyMs: LATENCY_MS });

  const started = performance.now();
  const { rotation } = await planRotation(deps, { secret: SECRET, env: 'prod' });
  const doc = await runRotation(deps, rotation, {
    actionDigest: randomUUID().replace(/-/g, '').padEnd(64, '0'),
    principal: 'bench',
  });
  const wall = performance.now() - started;
  const waits = backendMs.ms + config.rotation.verify_window;
  const overhead = Math.max(0, wall - waits);
  out(
    `rotation: ${doc.status}, ${doc.dependents.length} dependents (${doc.dependents.map((d) => d.service).join(', ')}), emulator latency ${LATENCY_MS} ms`,
  );
  out(
    `  wall ${round(wall, 0)} ms = backend calls and rollout waits ${round(backendMs.ms, 0)} ms + verify window ${config.rotation.verify_window} ms + day2 overhead ${round(overhead, 0)} ms`,
  );
  const share = (overhead / wall) * 100;
  out(`  day2 overhead: ${round(share, 2)} % of wall time (target <= 5 %: ${share <= 5 ? 'pass' : 'FAIL'})`);

  sandbox.emulators.kubernetes.prod!.faults.clear();
  sandbox.emulators.secretsManager.faults.clear();
  sandbox.emulators.datadog.faults.clear();
  const names = Array.from(
    { length: 2000 },
    (_, i) => `prod/inventory-bench/svc-${String(i).padStart(4, '0')}/db`,
  );
  for (let i = 0; i < names.length; i += 50)
    await Promise.all(
      names.slice(i, i + 50).map((Name) =>
        sdk.send(
          new CreateSecretCommand({
            Name,
            SecretString: `{"username":"u","password":"bench-${randomUUID()}"}`,
            Tags: [{ Key: 'team', Value: 'bench' }],
          }),
        ),
      ),
    );
  sdk.destroy();
  await collectCredentials(deps, { env: 'prod' }); // warm-up
  const samples: number[] = [];
  let total = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const inv = await collectCredentials(deps, { env: 'prod' });
    samples.push(performance.now() - t);
    total = inv.rows.length;
  }
  samples.sort((a, b) => a - b);
  const med = samples[2]!;
  out(
    `inventory: ${total} credentials in ${round(med, 0)} ms median of 5 (target <= 1000 ms: ${med <= 1000 ? 'pass' : 'FAIL'})`,
  );
  await store.close();
  await postgres.close();
} finally {
  await sandbox.close();
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}
