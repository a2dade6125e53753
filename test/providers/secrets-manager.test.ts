import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { REDACTED, Redactor } from '../../src/core/redact.js';
import { BackendError } from '../../src/providers/errors.js';
import {
  createSecretsManagerProvider,
  type AwsSecretsManagerProvider,
} from '../../src/providers/secrets-manager/index.js';
import {
  startSecretsManagerEmulator,
  type SecretsManagerEmulator,
} from '../../src/sandbox/secrets-manager/index.js';

const TOKEN = '33333333-3333-4333-8333-333333333333';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-key' };

async function backendError(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BackendError);
    return err as BackendError;
  }
  throw new Error('expected a BackendError');
}

describe('AwsSecretsManagerProvider against the emulator', () => {
  let emu: SecretsManagerEmulator;
  let clock: ManualClock;
  let provider: AwsSecretsManagerProvider;
  let redactor: Redactor;

  beforeEach(async () => {
    clock = new ManualClock();
    redactor = new Redactor();
    emu = await startSecretsManagerEmulator({
      clock,
      recordExchanges: true,
      secrets: [
        {
          name: 'prod/payments/db',
          value: '{"username":"payments_app","password":"pw-prod-payments-0001"}',
          tags: { service: 'payments' },
          rotationEnabled: true,
          rotationRules: { AutomaticallyAfterDays: 30 },
          lastRotatedDate: '2026-10-01T00:00:00Z',
        },
        { name: 'prod/orders/api-key', value: 'orders-key-0002', tags: { service: 'orders' } },
        { name: 'staging/payments/db', value: 'staging-value-0003' },
      ],
    });
    provider = createSecretsManagerProvider({
      redactor,
      region: 'us-east-1',
      endpoint: emu.url,
      credentials,
      prefix: 'prod/',
      timeoutMs: 2000,
    });
  });

  afterEach(async () => {
    provider.close();
    await emu.close();
  });

  it('lists metadata only, within the configured prefix', async () => {
    const secrets = await provider.listSecrets();
    expect(secrets.map((s) => s.name)).toEqual(['prod/payments/db', 'prod/orders/api-key']);
    const db = secrets[0]!;
    expect(db.tags).toEqual({ service: 'payments' });
    expect(db.rotationEnabled).toBe(true);
    expect(db.rotationRules).toEqual({ automaticallyAfterDays: 30 });
    expect(db.lastRotatedDate?.toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(db.nextRotationDate?.toISOString()).toBe('2026-10-31T00:00:00.000Z');
    expect(Object.values(db.versionStages)).toEqual([['AWSCURRENT']]);
    expect(JSON.stringify(secrets)).not.toContain('pw-prod-payments-0001');
    expect((await provider.listSecrets('prod/orders')).map((s) => s.name)).toEqual(['prod/orders/api-key']);
  });

  it('refuses secrets outside the prefix without calling AWS', async () => {
    const before = emu.exchanges.length;
    const err = await backendError(provider.describeSecret('staging/payments/db'));
    expect(err.kind).toBe('forbidden');
    expect((await backendError(provider.listSecrets('staging/'))).kind).toBe('forbidden');
    const arn = emu.secret('staging/payments/db')!.arn;
    expect((await backendError(provider.getSecretValue(arn))).kind).toBe('forbidden');
    expect(emu.exchanges.length).toBe(before);
  });

  it('describes by name and by ARN, and reports a missing secret as not_found', async () => {
    const arn = emu.secret('prod/orders/api-key')!.arn;
    expect((await provider.describeSecret(arn)).name).toBe('prod/orders/api-key');
    const err = await backendError(provider.describeSecret('prod/missing'));
    expect(err.kind).toBe('not_found');
    expect(err.status).toBe(400);
    expect(err.message).toContain('ResourceNotFoundException');
    expect(err.message).toContain('prod/missing');
  });

  it('runs a rotation: password, pending version, stage move, cleanup; values are registered for redaction', async () => {
    const password = await provider.getRandomPassword({ length: 24, excludePunctuation: true });
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(redactor.redactText(`new password is ${password}`)).toBe(`new password is ${REDACTED}`);

    const current = await provider.getSecretValue('prod/payments/db');
    expect(current.versionStages).toEqual(['AWSCURRENT']);
    // The JSON's password member is masked on its own, the username is not a secret.
    expect(redactor.redactText('pw-prod-payments-0001 for payments_app')).toBe(
      `${REDACTED} for payments_app`,
    );

    const next = JSON.stringify({ username: 'payments_app', password });
    const pending = await provider.createPendingVersion('prod/payments/db', next, TOKEN);
    expect(pending.versionId).toBe(TOKEN);
    // Retrying with the same token and value is harmless.
    expect(await provider.createPendingVersion('prod/payments/db', next, TOKEN)).toEqual(pending);
    const changed = await backendError(
      provider.createPendingVersion(
        'prod/payments/db',
        JSON.stringify({ password: 'other-value-xyz' }),
        TOKEN,
      ),
    );
    expect(changed.kind).toBe('conflict');
    expect(changed.message).not.toContain('other-value-xyz');

    const wrongFrom = await backendError(provider.moveCurrent('prod/payments/db', TOKEN, TOKEN));
    expect(wrongFrom.kind).toBe('invalid');

    clock.advance(3_600_000);
    await provider.moveCurrent('prod/payments/db', TOKEN, current.versionId);
    await provider.removeStage('prod/payments/db', 'AWSPENDING', TOKEN);
    const after = await provider.describeSecret('prod/payments/db');
    expect(after.versionStages).toEqual({ [current.versionId]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] });
    expect(after.lastRotatedDate?.toISOString()).toBe(clock.now().toISOString());
    expect(emu.secret('prod/payments/db')?.versions.find((v) => v.versionId === TOKEN)?.secretString).toBe(
      next,
    );
    expect(redactor.redact({ note: `rotated to ${next}` }).note).not.toContain(password);
  });

  it('tags a secret', async () => {
    await provider.tagResource('prod/orders/api-key', { owner: 'team-orders' });
    expect((await provider.describeSecret('prod/orders/api-key')).tags).toEqual({
      service: 'orders',
      owner: 'team-orders',
    });
  });

  it('translates throttling, server errors, dropped connections and timeouts', async () => {
    emu.faults.add({ kind: 'throttle', path: '/DescribeSecret', times: 1 });
    expect((await backendError(provider.describeSecret('prod/orders/api-key'))).kind).toBe('throttled');
    emu.faults.add({ kind: 'status', status: 500, path: '/DescribeSecret', times: 1 });
    const five = await backendError(provider.describeSecret('prod/orders/api-key'));
    expect(five.kind).toBe('unavailable');
    expect(five.status).toBe(500);
    expect(five.retryable).toBe(true);
    emu.faults.add({ kind: 'drop', path: '/ListSecrets', times: 1 });
    expect((await backendError(provider.listSecrets())).kind).toBe('unavailable');
    emu.faults.add({ kind: 'latency', latencyMs: 1500, path: '/DescribeSecret', times: 1 });
    const slow = createSecretsManagerProvider({
      redactor,
      region: 'us-east-1',
      endpoint: emu.url,
      credentials,
      prefix: 'prod/',
      timeoutMs: 200,
    });
    const timeout = await backendError(slow.describeSecret('prod/orders/api-key'));
    expect(timeout.kind).toBe('unavailable');
    expect(timeout.message).toContain('timed out');
    slow.close();
  });

  it('lets the SDK retry when maxAttempts allows it', async () => {
    const retrying = createSecretsManagerProvider({
      redactor,
      region: 'us-east-1',
      endpoint: emu.url,
      credentials,
      maxAttempts: 3,
    });
    emu.faults.add({ kind: 'status', status: 503, path: '/DescribeSecret', times: 2 });
    expect((await retrying.describeSecret('prod/orders/api-key')).name).toBe('prod/orders/api-key');
    expect(emu.exchanges.filter((x) => x.op === 'DescribeSecret')).toHaveLength(3);
    retrying.close();
  });
});
