import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
  paginateListSecrets,
  type ListSecretsCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import {
  startSecretsManagerEmulator,
  type SecretsManagerEmulator,
} from '../../src/sandbox/secrets-manager/index.js';

const TOKEN_A = '11111111-1111-4111-8111-111111111111';
const TOKEN_B = '22222222-2222-4222-8222-222222222222';

function clientFor(emu: SecretsManagerEmulator, maxAttempts = 1): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: emu.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-key' },
    maxAttempts,
  });
}

/** Runs a command expected to fail and returns what the SDK surfaces. */
async function failure(
  p: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

describe('Secrets Manager emulator through @aws-sdk/client-secrets-manager', () => {
  let emu: SecretsManagerEmulator;
  let sm: SecretsManagerClient;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock();
    emu = await startSecretsManagerEmulator({
      clock,
      secrets: [
        {
          name: 'prod/payments/db',
          value: '{"password":"seeded-pass-1"}',
          tags: { service: 'payments', env: 'prod' },
          description: 'Payments DB',
        },
        { name: 'prod/orders/api-key', value: 'seeded-api-key-2', tags: { service: 'orders', env: 'prod' } },
        {
          name: 'staging/payments/db',
          value: 'seeded-staging-3',
          tags: { service: 'payments', env: 'staging' },
        },
      ],
    });
    sm = clientFor(emu);
  });

  afterEach(async () => {
    sm.destroy();
    await emu.close();
  });

  it('creates a secret with an AWS-shaped ARN and reads it back', async () => {
    const created = await sm.send(
      new CreateSecretCommand({
        Name: 'dev/app',
        SecretString: 'v1-value',
        ClientRequestToken: TOKEN_A,
        Tags: [{ Key: 'team', Value: 'sre' }],
      }),
    );
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:dev\/app-[A-Za-z0-9]{6}$/,
    );
    expect(created.VersionId).toBe(TOKEN_A);
    expect(created.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const got = await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(got.SecretString).toBe('v1-value');
    expect(got.VersionStages).toEqual(['AWSCURRENT']);
    expect(got.CreatedDate).toBeInstanceOf(Date);
    expect(got.CreatedDate?.toISOString()).toBe(clock.now().toISOString());

    const partialArn = created.ARN!.slice(0, -7);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: partialArn }));
    expect(described.Name).toBe('dev/app');
    expect(described.Tags).toEqual([{ Key: 'team', Value: 'sre' }]);
    expect(described.VersionIdsToStages).toEqual({ [TOKEN_A]: ['AWSCURRENT'] });
    expect(emu.writes.map((w) => w.op)).toEqual(['CreateSecret']);
  });

  it('creates idempotently with the same token and value, and refuses a duplicate name otherwise', async () => {
    const first = await sm.send(
      new CreateSecretCommand({ Name: 'dev/idem', SecretString: 'same', ClientRequestToken: TOKEN_A }),
    );
    const again = await sm.send(
      new CreateSecretCommand({ Name: 'dev/idem', SecretString: 'same', ClientRequestToken: TOKEN_A }),
    );
    expect(again.ARN).toBe(first.ARN);
    const dup = await failure(sm.send(new CreateSecretCommand({ Name: 'dev/idem', SecretString: 'other' })));
    expect(dup).toMatchObject({ name: 'ResourceExistsException', status: 400 });
    const both = await failure(
      sm.send(
        new CreateSecretCommand({
          Name: 'dev/both',
          SecretString: 'x',
          SecretBinary: new Uint8Array([1, 2]),
        }),
      ),
    );
    expect(both.name).toBe('InvalidParameterException');
  });

  it('stores binary secrets', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'dev/bin', SecretBinary: new Uint8Array([0, 1, 2, 250]) }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'dev/bin' }));
    expect([...(got.SecretBinary ?? [])]).toEqual([0, 1, 2, 250]);
    expect(got.SecretString).toBeUndefined();
  });

  it('reports ResourceNotFoundException with the AWS message', async () => {
    const err = await failure(sm.send(new DescribeSecretCommand({ SecretId: 'nope' })));
    expect(err).toEqual({
      name: 'ResourceNotFoundException',
      status: 400,
      message: "Secrets Manager can't find the specified secret.",
    });
    const stage = await failure(
      sm.send(new GetSecretValueCommand({ SecretId: 'prod/payments/db', VersionStage: 'AWSPENDING' })),
    );
    expect(stage.name).toBe('ResourceNotFoundException');
    expect(stage.message).toContain('AWSPENDING');
  });

  it('moves AWSCURRENT and AWSPREVIOUS on PutSecretValue', async () => {
    const v1 = (await sm.send(new DescribeSecretCommand({ SecretId: 'prod/orders/api-key' })))
      .VersionIdsToStages!;
    const v1Id = Object.keys(v1)[0]!;
    const put = await sm.send(
      new PutSecretValueCommand({
        SecretId: 'prod/orders/api-key',
        SecretString: 'second-value',
        ClientRequestToken: TOKEN_A,
      }),
    );
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 'prod/orders/api-key',
        SecretString: 'third-value',
        ClientRequestToken: TOKEN_B,
      }),
    );
    const stages = (await sm.send(new DescribeSecretCommand({ SecretId: 'prod/orders/api-key' })))
      .VersionIdsToStages;
    // v1 lost every label: deprecated, so no longer listed.
    expect(stages).toEqual({ [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSCURRENT'] });
    const prev = await sm.send(
      new GetSecretValueCommand({ SecretId: 'prod/orders/api-key', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(prev.SecretString).toBe('second-value');
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'prod/orders/api-key' }));
    expect(listed.Versions?.map((v) => v.VersionId).sort()).toEqual([TOKEN_A, TOKEN_B].sort());
    const withDeprecated = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: 'prod/orders/api-key', IncludeDeprecated: true }),
    );
    expect(withDeprecated.Versions?.find((v) => v.VersionId === v1Id)?.VersionStages).toBeUndefined();
    const old = await sm.send(
      new GetSecretValueCommand({ SecretId: 'prod/orders/api-key', VersionId: v1Id }),
    );
    expect(old.SecretString).toBe('seeded-api-key-2');
  });

  it('treats PutSecretValue with the same token as idempotent and refuses a changed value', async () => {
    const a = await sm.send(
      new PutSecretValueCommand({
        SecretId: 'prod/orders/api-key',
        SecretString: 'pending-1',
        ClientRequestToken: TOKEN_A,
        VersionStages: ['AWSPENDING'],
      }),
    );
    const b = await sm.send(
      new PutSecretValueCommand({
        SecretId: 'prod/orders/api-key',
        SecretString: 'pending-1',
        ClientRequestToken: TOKEN_A,
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(b.VersionId).toBe(a.VersionId);
    expect(emu.secret('prod/orders/api-key')?.versions).toHaveLength(2);
    const changed = await failure(
      sm.send(
        new PutSecretValueCommand({
          SecretId: 'prod/orders/api-key',
          SecretString: 'pending-2',
          ClientRequestToken: TOKEN_A,
        }),
      ),
    );
    expect(changed).toMatchObject({ name: 'ResourceExistsException', status: 400 });
  });

  it('requires RemoveFromVersionId to move AWSCURRENT, then moves AWSPREVIOUS and records the rotation', async () => {
    const current = (await sm.send(new GetSecretValueCommand({ SecretId: 'prod/payments/db' }))).VersionId!;
    await sm.send(
      new RotateSecretCommand({
        SecretId: 'prod/payments/db',
        RotationRules: { AutomaticallyAfterDays: 30 },
        ClientRequestToken: TOKEN_A,
      }),
    );
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 'prod/payments/db',
        SecretString: '{"password":"rotated-pass"}',
        ClientRequestToken: TOKEN_A,
        VersionStages: ['AWSPENDING'],
      }),
    );

    const missing = await failure(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'prod/payments/db',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN_A,
        }),
      ),
    );
    expect(missing).toEqual({
      name: 'InvalidParameterException',
      status: 400,
      message: `The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version ${current}, so you must explicitly reference that version in RemoveFromVersionId.`,
    });
    const wrong = await failure(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'prod/payments/db',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: TOKEN_A,
          RemoveFromVersionId: TOKEN_A,
        }),
      ),
    );
    expect(wrong.name).toBe('InvalidParameterException');

    clock.advance(60_000);
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'prod/payments/db',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN_A,
        RemoveFromVersionId: current,
      }),
    );
    let d = await sm.send(new DescribeSecretCommand({ SecretId: 'prod/payments/db' }));
    expect(d.VersionIdsToStages).toEqual({
      [current]: ['AWSPREVIOUS'],
      [TOKEN_A]: ['AWSPENDING', 'AWSCURRENT'],
    });
    expect(d.LastRotatedDate?.toISOString()).toBe(clock.now().toISOString());
    expect(d.RotationEnabled).toBe(true);
    expect(d.RotationRules).toEqual({ AutomaticallyAfterDays: 30 });
    expect(d.NextRotationDate).toBeInstanceOf(Date);

    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'prod/payments/db',
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: TOKEN_A,
      }),
    );
    d = await sm.send(new DescribeSecretCommand({ SecretId: 'prod/payments/db' }));
    expect(d.VersionIdsToStages).toEqual({ [current]: ['AWSPREVIOUS'], [TOKEN_A]: ['AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'prod/payments/db' }))).SecretString).toBe(
      '{"password":"rotated-pass"}',
    );
  });

  it('refuses a new rotation while an AWSPENDING version is outstanding', async () => {
    await sm.send(
      new PutSecretValueCommand({
        SecretId: 'prod/payments/db',
        SecretString: 'stuck-pending',
        VersionStages: ['AWSPENDING'],
      }),
    );
    const err = await failure(
      sm.send(
        new RotateSecretCommand({
          SecretId: 'prod/payments/db',
          RotationRules: { ScheduleExpression: 'rate(10 days)' },
        }),
      ),
    );
    expect(err).toMatchObject({
      name: 'InvalidRequestException',
      message: "A previous rotation isn't complete. That rotation will be reattempted.",
    });
    const both = await failure(
      sm.send(
        new RotateSecretCommand({
          SecretId: 'prod/orders/api-key',
          RotationRules: { ScheduleExpression: 'rate(10 days)', AutomaticallyAfterDays: 3 },
        }),
      ),
    );
    expect(both.name).toBe('InvalidParameterException');
  });

  it('refuses to strip AWSCURRENT and ignores a move onto the version that already holds the label', async () => {
    const current = (await sm.send(new GetSecretValueCommand({ SecretId: 'prod/payments/db' }))).VersionId!;
    const strip = await failure(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'prod/payments/db',
          VersionStage: 'AWSCURRENT',
          RemoveFromVersionId: current,
        }),
      ),
    );
    expect(strip.name).toBe('InvalidParameterException');
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'prod/payments/db',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: current,
      }),
    );
    const bad = await failure(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'prod/payments/db',
          VersionStage: 'X',
          MoveToVersionId: TOKEN_B,
        }),
      ),
    );
    expect(bad.name).toBe('InvalidParameterException');
  });

  it('lists with filters, negation, planned deletion and pagination', async () => {
    const names = async (input: ListSecretsCommandInput) =>
      ((await sm.send(new ListSecretsCommand(input))).SecretList ?? []).map((s) => s.Name);
    expect(await names({ Filters: [{ Key: 'name', Values: ['prod/'] }] })).toEqual([
      'prod/payments/db',
      'prod/orders/api-key',
    ]);
    expect(
      await names({
        Filters: [
          { Key: 'tag-value', Values: ['payments'] },
          { Key: 'name', Values: ['!prod'] },
        ],
      }),
    ).toEqual(['staging/payments/db']);
    expect(await names({ Filters: [{ Key: 'description', Values: ['payments db'] }] })).toEqual([
      'prod/payments/db',
    ]);
    expect(await names({ Filters: [{ Key: 'all', Values: ['ORDERS'] }] })).toEqual(['prod/orders/api-key']);
    expect(await names({ SortBy: 'name', SortOrder: 'desc' })).toEqual([
      'staging/payments/db',
      'prod/payments/db',
      'prod/orders/api-key',
    ]);

    const entry = (
      await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['prod/orders'] }] }))
    ).SecretList?.[0];
    expect(entry?.SecretVersionsToStages && Object.values(entry.SecretVersionsToStages)).toEqual([
      ['AWSCURRENT'],
    ]);
    expect(entry?.Tags).toEqual([
      { Key: 'service', Value: 'orders' },
      { Key: 'env', Value: 'prod' },
    ]);

    for (let i = 0; i < 5; i++)
      await sm.send(new CreateSecretCommand({ Name: `page/s${i}`, SecretString: `page-value-${i}` }));
    const pages: (string | undefined)[][] = [];
    for await (const page of paginateListSecrets(
      { client: sm, pageSize: 3 },
      { Filters: [{ Key: 'name', Values: ['page/'] }] },
    )) {
      pages.push((page.SecretList ?? []).map((s) => s.Name));
    }
    expect(pages).toEqual([
      ['page/s0', 'page/s1', 'page/s2'],
      ['page/s3', 'page/s4'],
    ]);

    const badToken = await failure(sm.send(new ListSecretsCommand({ NextToken: 'garbage' })));
    expect(badToken.name).toBe('InvalidNextTokenException');
    const badMax = await failure(sm.send(new ListSecretsCommand({ MaxResults: 500 })));
    expect(badMax.name).toBe('InvalidParameterException');

    await sm.send(new DeleteSecretCommand({ SecretId: 'prod/orders/api-key', RecoveryWindowInDays: 7 }));
    expect(await names({ Filters: [{ Key: 'name', Values: ['prod/'] }] })).toEqual(['prod/payments/db']);
    expect(
      await names({ Filters: [{ Key: 'name', Values: ['prod/'] }], IncludePlannedDeletion: true }),
    ).toEqual(['prod/payments/db', 'prod/orders/api-key']);
  });

  it('paginates ListSecretVersionIds', async () => {
    for (let i = 0; i < 4; i++)
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'prod/orders/api-key',
          SecretString: `value-${i}`,
          VersionStages: [`L${i}`],
        }),
      );
    const first = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: 'prod/orders/api-key', MaxResults: 3 }),
    );
    expect(first.Versions).toHaveLength(3);
    const second = await sm.send(
      new ListSecretVersionIdsCommand({
        SecretId: 'prod/orders/api-key',
        MaxResults: 3,
        NextToken: first.NextToken,
      }),
    );
    expect(second.Versions).toHaveLength(2);
    expect(second.NextToken).toBeUndefined();
  });

  it('schedules deletion with a recovery window, refuses access meanwhile, and purges afterwards', async () => {
    const del = await sm.send(
      new DeleteSecretCommand({ SecretId: 'prod/orders/api-key', RecoveryWindowInDays: 7 }),
    );
    expect(del.DeletionDate?.getTime()).toBe(clock.now().getTime() + 7 * 86_400_000);
    const get = await failure(sm.send(new GetSecretValueCommand({ SecretId: 'prod/orders/api-key' })));
    expect(get).toEqual({
      name: 'InvalidRequestException',
      status: 400,
      message: "You can't perform this operation on the secret because it was marked for deletion.",
    });
    expect(
      (await sm.send(new DescribeSecretCommand({ SecretId: 'prod/orders/api-key' }))).DeletedDate,
    ).toBeInstanceOf(Date);
    const recreate = await failure(
      sm.send(new CreateSecretCommand({ Name: 'prod/orders/api-key', SecretString: 'x' })),
    );
    expect(recreate.name).toBe('InvalidRequestException');
    clock.advance(7 * 86_400_000);
    expect(
      (await failure(sm.send(new DescribeSecretCommand({ SecretId: 'prod/orders/api-key' })))).name,
    ).toBe('ResourceNotFoundException');

    const both = await failure(
      sm.send(
        new DeleteSecretCommand({
          SecretId: 'prod/payments/db',
          RecoveryWindowInDays: 7,
          ForceDeleteWithoutRecovery: true,
        }),
      ),
    );
    expect(both.name).toBe('InvalidParameterException');
    const range = await failure(
      sm.send(new DeleteSecretCommand({ SecretId: 'prod/payments/db', RecoveryWindowInDays: 3 })),
    );
    expect(range.name).toBe('InvalidParameterException');
    await sm.send(
      new DeleteSecretCommand({ SecretId: 'prod/payments/db', ForceDeleteWithoutRecovery: true }),
    );
    expect(emu.secret('prod/payments/db')).toBeUndefined();
    // Forcing the deletion of a secret that does not exist is not an error.
    const ghost = await sm.send(
      new DeleteSecretCommand({ SecretId: 'never/existed', ForceDeleteWithoutRecovery: true }),
    );
    expect(ghost.Name).toBe('never/existed');
  });

  it('accepts secrets added directly for sandbox fleets', async () => {
    emu.addSecret({ name: 'dev/added', value: 'added-value-1', tags: [{ Key: 'k', Value: 'v' }] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'dev/added' }))).SecretString).toBe(
      'added-value-1',
    );
    expect(emu.secretNames()).toContain('dev/added');
    expect(emu.writes).toEqual([]);
  });

  it('merges tags', async () => {
    await sm.send(
      new TagResourceCommand({
        SecretId: 'prod/orders/api-key',
        Tags: [
          { Key: 'env', Value: 'production' },
          { Key: 'owner', Value: 'team-orders' },
        ],
      }),
    );
    const d = await sm.send(new DescribeSecretCommand({ SecretId: 'prod/orders/api-key' }));
    expect(d.Tags).toEqual([
      { Key: 'service', Value: 'orders' },
      { Key: 'env', Value: 'production' },
      { Key: 'owner', Value: 'team-orders' },
    ]);
    const missing = await failure(
      sm.send(new TagResourceCommand({ SecretId: 'nope', Tags: [{ Key: 'a', Value: 'b' }] })),
    );
    expect(missing.name).toBe('ResourceNotFoundException');
  });

  it('generates random passwords honouring the options', async () => {
    const def = await sm.send(new GetRandomPasswordCommand({}));
    expect(def.RandomPassword).toHaveLength(32);
    for (let i = 0; i < 20; i++) {
      const p = (
        await sm.send(
          new GetRandomPasswordCommand({
            PasswordLength: 4,
            ExcludeCharacters: 'abcABC012',
            RequireEachIncludedType: true,
          }),
        )
      ).RandomPassword!;
      expect(p).toHaveLength(4);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(/[^A-Za-z0-9]/);
      expect(p).not.toMatch(/[abcABC012]/);
    }
    const alnum = (
      await sm.send(
        new GetRandomPasswordCommand({
          PasswordLength: 64,
          ExcludePunctuation: true,
          ExcludeUppercase: true,
        }),
      )
    ).RandomPassword!;
    expect(alnum).toMatch(/^[a-z0-9]{64}$/);
    const none = await failure(
      sm.send(
        new GetRandomPasswordCommand({
          ExcludeLowercase: true,
          ExcludeUppercase: true,
          ExcludeNumbers: true,
          ExcludePunctuation: true,
        }),
      ),
    );
    expect(none.name).toBe('InvalidParameterException');
    const tooShort = await failure(sm.send(new GetRandomPasswordCommand({ PasswordLength: 2 })));
    expect(tooShort.name).toBe('InvalidParameterException');
  });

  it('enforces the version quota with LimitExceededException', async () => {
    const small = await startSecretsManagerEmulator({
      clock,
      maxVersionsPerSecret: 3,
      secrets: [{ name: 'q', value: 'quota-0' }],
    });
    const c = clientFor(small);
    try {
      await c.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'quota-1' }));
      await c.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'quota-2' }));
      expect(
        (await failure(c.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'quota-3' })))).name,
      ).toBe('LimitExceededException');
      // A day later the deprecated version is cleaned up and there is room again.
      clock.advance(86_400_000 + 1);
      await c.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'quota-3' }));
    } finally {
      c.destroy();
      await small.close();
    }
  });

  describe('faults', () => {
    it('returns ThrottlingException as HTTP 400, which the SDK retries', async () => {
      emu.faults.add({ kind: 'throttle', path: '/DescribeSecret', times: 1 });
      const err = await failure(sm.send(new DescribeSecretCommand({ SecretId: 'prod/payments/db' })));
      expect(err).toMatchObject({ name: 'ThrottlingException', status: 400 });
      emu.faults.add({ kind: 'throttle', path: '/DescribeSecret', times: 1 });
      const retrying = clientFor(emu, 3);
      const ok = await retrying.send(new DescribeSecretCommand({ SecretId: 'prod/payments/db' }));
      expect(ok.$metadata.attempts).toBe(2);
      retrying.destroy();
    });

    it('returns InternalServiceError for 500 and survives dropped connections', async () => {
      emu.faults.add({ kind: 'status', status: 500, path: '/GetSecretValue', times: 1 });
      const err = await failure(sm.send(new GetSecretValueCommand({ SecretId: 'prod/payments/db' })));
      expect(err).toMatchObject({ name: 'InternalServiceError', status: 500 });
      emu.faults.add({ kind: 'drop', path: '/ListSecrets', times: 1 });
      await expect(sm.send(new ListSecretsCommand({}))).rejects.toThrow();
      expect((await sm.send(new ListSecretsCommand({}))).SecretList).toHaveLength(3);
      expect(emu.writes).toHaveLength(0);
    });
  });

  it('requires an Authorization header and the JSON 1.1 target', async () => {
    const res = await fetch(emu.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'secretsmanager.ListSecrets' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-requestid')).toBeTruthy();
    expect(((await res.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException');
    const unknown = await fetch(emu.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'secretsmanager.Nope',
        Authorization: 'AWS4-HMAC-SHA256 Credential=x',
      },
      body: '{}',
    });
    expect(((await unknown.json()) as { __type: string }).__type).toBe('UnknownOperationException');
  });
});
