import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import { FleetLoadError } from '../../src/sandbox/load-fleet.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/start-sandbox.js';
import { databaseUrl } from '../../src/sandbox/seed/postgres.js';

/**
 * The sandbox seeded from the mini fleet (test/fixtures/fleets/mini.yaml), checked through the
 * official clients: each cluster, the Datadog org, Secrets Manager, the real Alertmanager and the
 * real PostgreSQL (its roles are unique to this fleet, so no other test races with them).
 */

const MINI = fileURLToPath(new URL('../fixtures/fleets/mini.yaml', import.meta.url));
const BAD = fileURLToPath(new URL('../fixtures/fleets/bad.yaml', import.meta.url));
const DAY = 86_400_000;
const lines: string[] = [];
const redactor = new Redactor();
const log = createLogger({ redactor, sink: (l) => lines.push(l), level: 'info' });
let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({
    fleet: MINI,
    log,
    redactor,
    env: process.env,
    postgres: {},
    backends: { timeout: 20_000, retries: 0 },
  });
}, 60_000);

afterAll(async () => {
  await sb?.close();
});

async function kube(env: string) {
  const kc = await sb.emulators.kubernetes[env]!.kubeConfig();
  return { core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api) };
}

describe('startSandbox on the mini fleet', () => {
  it('synthesizes the environments for the configuration', () => {
    const prod = sb.environments.prod!;
    expect(prod.tier).toBe('production');
    expect(prod.kubernetes?.namespaces).toEqual(['core']);
    expect(prod.datadog).toMatchObject({ base_url: sb.emulators.datadog.url, scope_tag: 'env:prod' });
    expect(prod.alertmanager?.url).toBe(sb.emulators.alertmanager!.url);
    expect(prod.aws).toMatchObject({
      region: 'eu-central-1',
      endpoint: sb.emulators.secretsManager.url,
      secret_prefix: 'prod/',
    });
    // The sandbox's own cluster: the superuser over its socket, no password in the URL.
    expect(sb.postgres?.ownCluster).toBe(true);
    expect(prod.databases.ledger?.url).toBe(databaseUrl(sb.postgres!.adminUrl, 'mini_ledger_prod'));
    expect(prod.databases.ledger?.url).not.toMatch(/:[^/@]*@/);
    expect(sb.environments.dev!.tier).toBe('development');
    expect(sb.backends.has('prod', 'postgres')).toBe(true);
    expect(sb.backends.has('dev', 'postgres')).toBe(false);
    expect(
      sb.catalog
        .services()
        .map((s) => s.id)
        .sort(),
    ).toEqual(['indexer', 'ledger']);
  });

  it('logs one start-up line naming the fleet and where the emulators listen', () => {
    const startup = lines.filter((l) => l.includes('sandbox: fleet mini-co'));
    expect(startup).toHaveLength(1);
    expect(startup[0]).toContain('(2 environments, 2 services)');
    expect(startup[0]).toContain('127.0.0.1');
  });

  it('gives each environment its own cluster with deployments, rollout history and pods', async () => {
    const prod = await kube('prod');
    const d = await prod.apps.readNamespacedDeployment({ namespace: 'core', name: 'ledger' });
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('4');
    expect(d.spec?.template.spec?.containers[0]?.image).toContain('ledger:1.3.0@sha256:');
    expect(d.spec?.template.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef).toEqual({
      name: 'ledger-db',
      key: 'password',
    });
    expect(d.spec?.template.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '200m', memory: '256Mi' });
    expect(d.status?.readyReplicas).toBe(2);

    const rs = (await prod.apps.listNamespacedReplicaSet({ namespace: 'core' })).items.filter((r) =>
      r.metadata?.name?.startsWith('ledger-'),
    );
    const byRev = Object.fromEntries(
      rs.map((r) => [r.metadata!.annotations!['deployment.kubernetes.io/revision'], r]),
    );
    expect(Object.keys(byRev).sort()).toEqual(['3', '4']);
    expect(byRev['3']!.spec?.replicas).toBe(0);
    expect(byRev['3']!.spec?.template?.spec?.containers[0]?.image).toContain('ledger:1.2.9');
    expect(byRev['4']!.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'ledger',
      uid: d.metadata?.uid,
    });
    expect(Date.now() - new Date(byRev['3']!.metadata!.creationTimestamp).getTime()).toBeGreaterThan(9 * DAY);

    const dev = await kube('dev');
    const devLedger = await dev.apps.readNamespacedDeployment({ namespace: 'core', name: 'ledger' });
    expect(devLedger.spec?.template.spec?.containers[0]?.image).toContain('ledger:1.4.0');
  });

  it('describes the OOMKilled indexer pod and its metrics', async () => {
    const prod = await kube('prod');
    const pods = (
      await prod.core.listNamespacedPod({
        namespace: 'core',
        // The mini fleet labels prod indexer with a name of its own (an alias the resolver knows).
        labelSelector: 'app.kubernetes.io/name=search-indexer',
      })
    ).items;
    expect(pods).toHaveLength(2);
    const oom = pods.find((p) => p.status?.containerStatuses?.[0]?.restartCount === 3);
    expect(oom?.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
    expect(oom?.status?.phase).toBe('Running');
    const usage = await sb.backends.kubernetes('prod').podMetrics('core');
    const indexer = usage.filter((u) => u.pod.startsWith('indexer-'));
    expect(indexer.map((u) => u.containers[0]?.cpuMillicores)).toEqual([80, 80]);
  });

  it('seeds services with endpoints of ready pods, and secrets base64-encoded', async () => {
    const prod = await kube('prod');
    const ep = await prod.core.readNamespacedEndpoints({ namespace: 'core', name: 'ledger' });
    const podNames = (await prod.core.listNamespacedPod({ namespace: 'core' })).items.map(
      (p) => p.metadata!.name!,
    );
    const targets = ep.subsets?.[0]?.addresses?.map((a) => a.targetRef?.name) ?? [];
    expect(targets).toHaveLength(2);
    for (const t of targets) expect(podNames).toContain(t);
    const secret = await prod.core.readNamespacedSecret({ namespace: 'core', name: 'ledger-db' });
    expect(Buffer.from(secret.data!.username!, 'base64').toString()).toBe('mini_ledger_app');
  });

  it('keeps Secrets Manager version history and dates', async () => {
    const client = new SecretsManagerClient({
      region: 'eu-central-1',
      endpoint: sb.emulators.secretsManager.url,
      credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
    });
    const s = await client.send(new DescribeSecretCommand({ SecretId: 'prod/ledger/db' }));
    client.destroy();
    const stages = Object.values(s.VersionIdsToStages ?? {})
      .flat()
      .sort();
    expect(stages).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    const days = (d?: Date) => Math.round((Date.now() - (d?.getTime() ?? 0)) / DAY);
    expect(days(s.CreatedDate)).toBe(200);
    expect(days(s.LastRotatedDate)).toBe(100);
    expect(s.RotationEnabled).toBe(true);
    expect(s.RotationRules?.AutomaticallyAfterDays).toBe(90);
  });

  it('seeds Datadog monitors with their state and deployment events', async () => {
    const dd = sb.backends.datadog('prod');
    const alerts = await dd.activeAlerts();
    expect(alerts.map((a) => a.monitorId)).toEqual([501]);
    const events = await dd.listEvents({ query: 'service:ledger' });
    expect(events.events.map((e) => e.title)).toContain('Deployed ledger 1.3.0 to prod');
  });

  it('posts the fleet alerts to the real Alertmanager, scoped per environment', async () => {
    const prod = await sb.backends.alertmanager('prod').listAlerts();
    expect(prod.map((a) => a.labels.alertname)).toEqual(['LedgerSlowWrites']);
    expect(Date.parse(prod[0]!.endsAt!)).toBeGreaterThan(Date.now() + 3_600_000);
    expect(await sb.backends.alertmanager('dev').listAlerts()).toEqual([]);
  });

  it('creates the database and a login role whose password is the secret AWSCURRENT; a wrong one fails', async () => {
    expect(sb.postgres?.ok).toBe(true);
    const value = await sb.backends.secrets('prod').getSecretValue('prod/ledger/db');
    const creds = JSON.parse(value.value) as {
      username: string;
      password: string;
      dbname: string;
      host: string;
      port: number;
    };
    // The secret names the server the role lives on, as a real one would.
    expect({ host: creds.host, port: creds.port }).toEqual({ host: '127.0.0.1', port: sb.postgres!.port });
    const login = (password: string) =>
      new pg.Client({
        host: creds.host,
        port: creds.port,
        user: creds.username,
        password,
        database: creds.dbname,
      });
    const wrong = login(`${creds.password}x`);
    await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
    await wrong.end().catch(() => undefined);
    const c = login(creds.password);
    await c.connect();
    try {
      const rows = await c.query<{ n: string }>('SELECT count(*) AS n FROM ledger');
      expect(Number(rows.rows[0]!.n)).toBe(200);
    } finally {
      await c.end();
    }
  });
});

describe('startSandbox failures', () => {
  it('refuses a bad fleet, naming the file and the path inside it', async () => {
    const err = await startSandbox({
      fleet: BAD,
      log,
      redactor,
      env: process.env,
      postgres: false,
      alertmanager: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetLoadError);
    expect((err as Error).message).toContain('bad.yaml');
    expect((err as Error).message).toContain('environments.prod.hpas[0].target');
  });

  it('starts without the Alertmanager binary and says how to install it', async () => {
    const seen: string[] = [];
    const quiet = createLogger({ redactor, sink: (l) => seen.push(l), level: 'info' });
    const s = await startSandbox({
      fleet: MINI,
      log: quiet,
      redactor,
      env: process.env,
      postgres: false,
      alertmanagerBinary: '/nonexistent/prometheus-alertmanager',
    });
    try {
      expect(s.backends.has('prod', 'alertmanager')).toBe(false);
      expect(s.environments.prod!.alertmanager).toBeUndefined();
      expect(seen.join('\n')).toContain('apt-get install -y prometheus-alertmanager');
      expect(s.backends.has('prod', 'kubernetes')).toBe(true);
    } finally {
      await s.close();
    }
  });
});
