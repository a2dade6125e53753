import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { verifyAudit } from '../../../../src/guards/audit-verify.js';
import { WebhookNotifier } from '../../../../src/providers/notify/notifier.js';
import { planRotation } from '../../../../src/tools/secrets/rotation/plan-rotation.js';
import { runRotation } from '../../../../src/tools/secrets/rotation/run-rotation.js';
import { STEP_NAMES, type StepName } from '../../../../src/tools/secrets/rotation/types.js';
import { collectCredentials } from '../../../../src/tools/secrets/rotation/inventory.js';
import { parseDbCredential } from '../../../../src/tools/secrets/rotation/credential-value.js';
import { credentialsResource } from '../../../../src/resources/credentials-resource.js';
import { startRotationHarness, type RotationHarness } from './rotation-fixture.js';
import { issuedToken } from '../../../fixtures/approval-token.js';
import { databaseUrl } from '../../../../src/sandbox/seed/postgres.js';

const SECRET = 'prod/payment-service/db';
const REQUEST = { service: 'payment-service', env: 'prod', reason: 'overdue rotation' };

describe('rotate_credential against PostgreSQL and the emulators', () => {
  let h: RotationHarness;

  beforeAll(async () => {
    h = await startRotationHarness();
    const sdk = new SecretsManagerClient({
      region: 'eu-west-1',
      endpoint: h.sandbox.emulators.secretsManager.url,
      credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox' },
    });
    await sdk.send(
      new CreateSecretCommand({
        Name: 'prod/ghost/db',
        SecretString: JSON.stringify({
          engine: 'postgres',
          username: 'ghost_app',
          password: `ghost-${randomUUID()}`,
          host: '127.0.0.1',
          port: h.pg.port,
          dbname: 'payments_prod',
        }),
      }),
    );
    sdk.destroy();
    // fraud-detector also reads payment-service's database secret (secretKeyRef): two dependents,
    // and payment-service depends on fraud-detector, so fraud-detector restarts first.
    const k8s = h.sandbox.backends.kubernetes('prod');
    const fd = await k8s.getDeployment('payments', 'fraud-detector');
    await k8s.patchDeployment(
      'payments',
      'fraud-detector',
      {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: fd.images[0]!.container,
                  env: [
                    {
                      name: 'PAYMENTS_DB_PASSWORD',
                      valueFrom: { secretKeyRef: { name: 'payment-service-db', key: 'password' } },
                    },
                  ],
                },
              ],
            },
          },
        },
      },
      { type: 'strategic' },
    );
    await k8s.waitForRollout('payments', 'fraud-detector', { timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('plans from only {service, env}: the secret, database, role, dependents in restart order and owners', async () => {
    const r = await h.call('rotate_credential', { ...REQUEST, dry_run: true });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    const plan = r.structuredContent!.plan as Record<string, unknown>;
    expect(plan.secret).toBe(SECRET);
    expect(plan.database).toBe('payments');
    expect(plan.role).toBe('payments_app');
    expect(plan.strategy).toBe('single-user');
    expect((plan.dependents_in_restart_order as { service: string }[]).map((d) => d.service)).toEqual([
      'fraud-detector',
      'payment-service',
    ]);
    expect(plan.owners).toEqual(expect.arrayContaining([expect.stringContaining('payments')]));
    expect(plan.notify_owners).toBe(true);
    expect(String(plan.way_back)).toMatch(/AWSPENDING/);
  });

  it('single-user: the new password logs in, the old one fails, stages as AWS documents, restarts in order, owners notified', async () => {
    const before = await h.credential(SECRET);
    expect(await h.logsIn(before.username, before.password)).toBe(true);
    // The sandbox's server checks passwords (scram-sha-256): a wrong one is refused.
    expect(await h.logsIn(before.username, `${before.password}-wrong`)).toBe(false);
    h.notifier.sent.length = 0;
    h.progress.length = 0;
    const { plan, result } = await h.approveAndRun(REQUEST);
    expect((plan.structuredContent!.policy as { approvals_needed: number }).approvals_needed).toBe(2);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const rot = (
      result.structuredContent!.result as {
        rotation: { status: string; steps: { name: string; status: string }[]; current_version: string };
      }
    ).rotation;
    expect(rot.status).toBe('completed');
    expect(rot.steps.every((s) => s.status === 'done')).toBe(true);

    const after = await h.credential(SECRET);
    expect(after.versionId).toBe(rot.current_version);
    expect(after.username).toBe('payments_app');
    expect(after.password).not.toBe(before.password);
    expect(await h.logsIn('payments_app', after.password, 'payments_prod')).toBe(true);
    expect(await h.logsIn('payments_app', before.password)).toBe(false);
    const stages = await h.stages(SECRET);
    expect(stages[after.versionId]).toEqual(['AWSCURRENT']);
    expect(stages[before.versionId]).toEqual(['AWSPREVIOUS']);
    expect(Object.values(stages).flat()).not.toContain('AWSPENDING');

    // Both dependents were restarted (the restartedAt annotation), fraud-detector first.
    const k8s = h.sandbox.backends.kubernetes('prod');
    for (const name of ['fraud-detector', 'payment-service']) {
      const objs = await k8s.listObjects('apps/v1', 'Deployment', 'payments');
      const d = objs.find((o) => o.metadata.name === name) as
        { spec: { template: { metadata: { annotations?: Record<string, string> } } } } | undefined;
      expect(d?.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeTruthy();
    }
    const restarts = h.progress.filter((m) => m.startsWith('restarted '));
    expect(restarts).toEqual(['restarted fraud-detector, ready', 'restarted payment-service, ready']);

    const kinds = h.notifier.sent.map((n) => n.kind).filter((k) => k.startsWith('rotation.'));
    expect(kinds).toEqual(['rotation.starting', 'rotation.completed']);
    const done = h.notifier.sent.find((n) => n.kind === 'rotation.completed')!;
    expect(done.recipients?.length).toBeGreaterThan(0);
    expect(done.text).toContain(SECRET);
    expect(done.fields?.rotated_at).toBeTruthy();

    const status = await h.call('get_rotation', { secret: SECRET, env: 'prod' });
    expect((status.structuredContent!.rotation as { status: string }).status).toBe('completed');
    expect((await verifyAudit(h.rt.deps.store)).ok).toBe(true);
  });

  it('alternating-users: the clone logs in with the new password and the previous user keeps working', async () => {
    const before = await h.credential(SECRET);
    const { result } = await h.approveAndRun({ ...REQUEST, strategy: 'alternating-users' });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const after = await h.credential(SECRET);
    expect(after.username).toBe('payments_app_clone');
    expect(await h.logsIn('payments_app_clone', after.password, 'payments_prod')).toBe(true);
    expect(await h.logsIn(before.username, before.password, 'payments_prod')).toBe(true);
    const previous = await h.credential(SECRET, 'AWSPREVIOUS');
    expect(previous.versionId).toBe(before.versionId);

    // The next rotation alternates back (strategy inferred from the _clone role); the clone stays valid.
    const { result: again } = await h.approveAndRun(REQUEST);
    expect(again.isError, JSON.stringify(again.content)).toBeFalsy();
    const third = await h.credential(SECRET);
    expect(third.username).toBe('payments_app');
    expect(await h.logsIn('payments_app', third.password, 'payments_prod')).toBe(true);
    expect(await h.logsIn('payments_app_clone', after.password, 'payments_prod')).toBe(true);
    expect(await h.logsIn('payments_app', before.password)).toBe(false);
  });

  async function expectWorkingCurrent(): Promise<void> {
    const cur = await h.credential(SECRET);
    expect(await h.logsIn(cur.username, cur.password)).toBe(true);
  }

  async function expectConverges(args: Record<string, unknown> = REQUEST): Promise<void> {
    const { result } = await h.approveAndRun(args);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect((result.structuredContent!.result as { rotation: { status: string } }).rotation.status).toBe(
      'completed',
    );
    await expectWorkingCurrent();
    expect(Object.values(await h.stages(SECRET)).flat()).not.toContain('AWSPENDING');
  }

  it('Secrets Manager 5xx at createSecret: rolled back, AWSCURRENT still logs in, a re-run converges', async () => {
    const before = await h.credential(SECRET);
    h.sandbox.emulators.secretsManager.faults.add({ kind: 'status', status: 503, path: '/PutSecretValue' });
    const { result } = await h.approveAndRun(REQUEST);
    h.sandbox.emulators.secretsManager.faults.clear();
    expect(result.isError).toBe(true);
    expect((await h.credential(SECRET)).versionId).toBe(before.versionId);
    await expectWorkingCurrent();
    const st = await h.call('get_rotation', { secret: SECRET, env: 'prod' });
    expect((st.structuredContent!.rotation as { status: string }).status).toBe('rolled_back');
    await expectConverges();
  });

  it('throttling at finishSecret: the role gets its AWSCURRENT password back; a re-run converges', async () => {
    h.sandbox.emulators.secretsManager.faults.add({
      kind: 'throttle',
      retryAfterSeconds: 0,
      path: '/UpdateSecretVersionStage',
    });
    const { result } = await h.approveAndRun(REQUEST);
    h.sandbox.emulators.secretsManager.faults.clear();
    expect(result.isError).toBe(true);
    await expectWorkingCurrent();
    // The rollback could not remove AWSPENDING (still throttled): the inventory says so.
    const inv = await h.call('list_credentials', { env: 'prod', service: 'payment-service' });
    const row = (inv.structuredContent!.credentials as { name: string; status: string }[]).find(
      (c) => c.name === SECRET,
    );
    expect(['rotation_in_progress', 'pending_left_behind']).toContain(row?.status);
    await expectConverges();
  });

  it('PostgreSQL refusing the login at testSecret: rolled back; a re-run converges once it is fixed', async () => {
    const admin = async (sql: string) => {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: databaseUrl(h.pg.adminUrl, 'payments_prod') });
      await c.connect();
      await c.query(sql);
      await c.end();
    };
    await admin('REVOKE CONNECT ON DATABASE payments_prod FROM PUBLIC, payments_app, payments_app_clone');
    const { result } = await h.approveAndRun(REQUEST);
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/test_secret/);
    await expectWorkingCurrent();
    await admin('GRANT CONNECT ON DATABASE payments_prod TO payments_app, payments_app_clone');
    await expectConverges();
  });

  it('PostgreSQL refusing the ALTER (a role that does not exist): rolled back, AWSCURRENT unchanged', async () => {
    const GHOST = 'prod/ghost/db';
    const before = await h.stages(GHOST);
    const { result } = await h.approveAndRun({ secret: GHOST, env: 'prod', reason: 'test' });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/set_secret/);
    expect(await h.stages(GHOST)).toEqual(before);
    const st = await h.call('get_rotation', { secret: GHOST, env: 'prod' });
    expect((st.structuredContent!.rotation as { status: string }).status).toBe('rolled_back');
  });

  it('a dependent that never becomes ready: the credential works, the rotation stops, a resumed run converges', async () => {
    const k8s = h.sandbox.backends.kubernetes('prod');
    const good = (await k8s.getDeployment('payments', 'payment-service')).images[0]!;
    await k8s.setImage(
      'payments',
      'payment-service',
      good.container,
      'registry.acme.test/shop/payment-service:8.0.0-rc.1',
    );
    const { result } = await h.approveAndRun(REQUEST);
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/payment-service.*did not become ready/);
    await expectWorkingCurrent();
    await k8s.setImage('payments', 'payment-service', good.container, good.image);
    await k8s.waitForRollout('payments', 'payment-service', { timeoutMs: 20_000 });
    const plan = await h.call('rotate_credential', { ...REQUEST, dry_run: true });
    expect(String(plan.structuredContent!.summary)).toMatch(
      /^resume rotation rot-\w+ of prod\/payment-service\/db in prod from step restart_dependents/,
    );
    await expectConverges();
  });

  it('the notifier down: the rotation stops before anything changes; a re-run converges', async () => {
    const down = await webhook(503);
    h.notifier.through = new WebhookNotifier(down.url, 2000, h.rt.deps.redactor);
    const before = await h.stages(SECRET);
    try {
      const { result } = await h.approveAndRun(REQUEST);
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/owners could not be notified/);
      expect(await h.stages(SECRET)).toEqual(before);
      await expectWorkingCurrent();
    } finally {
      h.notifier.through = undefined;
      down.server.close();
    }
    await expectConverges();
  });

  for (const strategy of ['alternating-users', 'single-user'] as const) {
    it(`${strategy}: a process killed after each step leaves a working credential and resumes to completion`, async () => {
      for (const step of STEP_NAMES) {
        const { rotation } = await planRotation(h.rt.deps, { ...REQUEST, strategy });
        expect(rotation.resume).toBeUndefined();
        const killed = await runRotation(h.rt.deps, rotation, {
          actionDigest: createHash('sha256')
            .update(`crash-${strategy}-${step}-${randomUUID()}`)
            .digest('hex'),
          principal: 'alice',
          hooks: {
            afterEffect: (s: StepName) => {
              if (s === step) throw new Error(`killed after ${s}`);
            },
          },
        }).then(
          () => 'not killed',
          (e: unknown) => String(e),
        );
        expect(killed).toContain(`killed after ${step}`);
        const cur = await h.credential(SECRET);
        if (strategy === 'single-user' && (step === 'set_secret' || step === 'test_secret')) {
          // The documented single-user window: the role already has the pending password.
          const pending = await h.credential(SECRET, 'AWSPENDING');
          expect(await h.logsIn(pending.username, pending.password)).toBe(true);
        } else {
          expect(await h.logsIn(cur.username, cur.password), `AWSCURRENT after a kill at ${step}`).toBe(true);
        }
        const plan = await h.call('rotate_credential', { ...REQUEST, dry_run: true });
        expect(String(plan.structuredContent!.summary)).toContain(`from step ${step}`);
        await expectConverges();
      }
    }, 120_000);
  }

  it('staging has roles of its own: rotating its credential leaves prod logging in', async () => {
    const STAGING = 'staging/payment-service/db';
    const sm = h.sandbox.backends.secrets('staging');
    // Read through the staging provider (each env's provider keeps to its secret prefix).
    const stagingCredential = async () => {
      const c = parseDbCredential((await sm.getSecretValue(STAGING, { versionStage: 'AWSCURRENT' })).value)!;
      h.seen.add(c.password); // for the canary scan
      return c;
    };
    const prod = await h.credential(SECRET);
    const before = await stagingCredential();
    expect(before.username).toBe('payments_staging_app');
    expect(await h.logsIn(before.username, before.password, 'payments_staging')).toBe(true);

    const args = { service: 'payment-service', env: 'staging', reason: 'staging rotation' };
    const plan = await h.call('rotate_credential', args);
    expect(plan.structuredContent!.status).toBe('approval_required');
    const id = plan.structuredContent!.approval_id as string;
    await h.rt.approvals.approve(id, 'bob', { reason: 'ok', channel: 'cli' });
    const token = await issuedToken(h.rt.approvals, id);
    const result = await h.call('rotate_credential', { ...args, approval_token: token });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();

    const after = await stagingCredential();
    expect(after.password).not.toBe(before.password);
    expect(await h.logsIn('payments_staging_app', after.password, 'payments_staging')).toBe(true);
    expect(await h.logsIn('payments_staging_app', before.password, 'payments_staging')).toBe(false);
    // Prod's role is another role: its password did not move.
    expect(await h.logsIn(prod.username, prod.password, 'payments_prod')).toBe(true);
  }, 120_000);

  it('the inventory lists every credential with owner, users, due date and status; TLS certificates without their key', async () => {
    const r = await h.call('list_credentials', { env: 'prod', limit: 100 });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    const rows = r.structuredContent!.credentials as {
      name: string;
      status: string;
      owner?: string;
      used_by: string[];
      kind: string;
      expires?: string;
      next_due?: string;
    }[];
    const pay = rows.find((c) => c.name === SECRET)!;
    expect(pay.status).toBe('ok');
    expect(pay.owner).toBe('payments-team');
    expect(pay.used_by).toEqual(['fraud-detector', 'payment-service']);
    expect(rows.find((c) => c.name === 'prod/inventory/db')?.status).toBe('overdue');
    expect(rows.find((c) => c.name === 'prod/orders/db')?.status).toBe('due_soon');
    const tls = rows.find((c) => c.name === 'k8s:storefront/storefront-tls')!;
    expect(tls.kind).toBe('tls-certificate');
    expect(tls.expires).toMatch(/^2036-/);
    expect(tls.used_by).toContain('web-frontend');
    expect(JSON.stringify(r)).not.toContain('PRIVATE KEY');
    const page = await h.call('list_credentials', { env: 'prod', limit: 2 });
    expect((page.structuredContent!.credentials as unknown[]).length).toBe(2);
    expect(page.structuredContent!.next_cursor).toBeTruthy();
    const overdue = await h.call('list_credentials', { env: 'prod', status: 'overdue' });
    expect(
      (overdue.structuredContent!.credentials as { status: string }[]).every((c) => c.status === 'overdue'),
    ).toBe(true);
    const res = await credentialsResource.read({
      deps: h.rt.deps,
      principal: { id: 'alice', transport: 'stdio' },
      signal: new AbortController().signal,
    });
    expect((res.json as { total: number }).total).toBeGreaterThan(10);
    const direct = await collectCredentials(h.rt.deps, { env: 'prod' });
    expect(direct.rows.length).toBe(r.structuredContent!.total);
  });

  it('canary: no secret value in any result, notification, rotation record, audit record or log line', async () => {
    expect((await verifyAudit(h.rt.deps.store)).ok).toBe(true);
    // Every version the run created, read back through the SDK.
    const meta = await h.sandbox.backends.secrets('prod').describeSecret(SECRET);
    for (const id of Object.keys(meta.versionStages)) {
      const v = await h.sandbox.backends.secrets('prod').getSecretValue(SECRET, { versionId: id });
      h.seen.add(JSON.parse(v.value).password as string);
    }
    expect(h.seen.size).toBeGreaterThan(5);
    const haystacks: string[] = [
      ...h.results.map((r) => JSON.stringify(r)),
      ...h.notifier.sent.map((n) => JSON.stringify(n)),
      ...h.logs,
    ];
    for (const c of ['rotations', 'rotation-active'])
      for (const d of await h.rt.deps.store.listDocs(c, 1000)) haystacks.push(JSON.stringify(d));
    for await (const batch of h.rt.deps.store.scanAudit(1000))
      for (const rec of batch) haystacks.push(rec.record);
    const all = haystacks.join('\n');
    expect(all).toContain('rotation.completed');
    for (const p of h.seen) expect(all.includes(p), 'a secret value leaked').toBe(false);
  });
});

function webhook(status: number): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      req.resume();
      res.statusCode = status;
      res.end();
    });
    server.listen(0, '127.0.0.1', () => {
      const a = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${a.port}/hook`, server });
    });
  });
}
