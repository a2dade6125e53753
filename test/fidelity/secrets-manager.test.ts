import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import {
  startSecretsManagerEmulator,
  type SecretsManagerEmulator,
} from '../../src/sandbox/secrets-manager/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fidelityDir = process.env.DAY2_FIDELITY_DIR ?? join(repo, '../shared/fidelity');
const modelPath = join(fidelityDir, 'aws/secretsmanager-service-2.json');
const present = existsSync(modelPath);

interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  enum?: string[];
}
interface Model {
  metadata: { targetPrefix: string; jsonVersion: string };
  operations: Record<
    string,
    { input: { shape: string }; output?: { shape: string }; errors?: { shape: string }[] }
  >;
  shapes: Record<string, Shape>;
}

/** Errors every AWS JSON service may return whatever the operation's model lists. */
const COMMON_ERRORS = new Set(['ThrottlingException', 'ServiceUnavailable']);

/** Checks a JSON value against a shape of the service model: members, required members, types, lengths and enums. */
function validate(model: Model, shapeName: string, value: unknown, path: string, out: string[]): void {
  const shape = model.shapes[shapeName];
  if (!shape) return void out.push(`${path}: unknown shape ${shapeName}`);
  const fail = (why: string): void => {
    out.push(`${path} (${shapeName}): ${why}`);
  };
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return fail('expected an object');
      for (const r of shape.required ?? []) if (!(r in value)) fail(`missing required member ${r}`);
      for (const [k, v] of Object.entries(value)) {
        const member = shape.members?.[k];
        if (!member) fail(`member ${k} is not in the model`);
        else validate(model, member.shape, v, `${path}.${k}`, out);
      }
      return;
    }
    case 'list':
      if (!Array.isArray(value)) return fail('expected a list');
      if (shape.min !== undefined && value.length < shape.min) fail(`fewer than ${shape.min} items`);
      if (shape.max !== undefined && value.length > shape.max) fail(`more than ${shape.max} items`);
      value.forEach((v, i) => validate(model, shape.member!.shape, v, `${path}[${i}]`, out));
      return;
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected a map');
      for (const [k, v] of Object.entries(value)) {
        validate(model, shape.key!.shape, k, `${path}{key}`, out);
        validate(model, shape.value!.shape, v, `${path}.${k}`, out);
      }
      return;
    case 'string':
      if (typeof value !== 'string') return fail('expected a string');
      if (shape.min !== undefined && value.length < shape.min) fail(`shorter than ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) fail(`longer than ${shape.max}`);
      if (shape.enum && !shape.enum.includes(value)) fail(`not one of ${shape.enum.join(', ')}`);
      return;
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail('expected an integer');
      if (shape.min !== undefined && value < shape.min) fail(`below ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) fail(`above ${shape.max}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('expected a boolean');
      return;
    case 'timestamp':
      // The JSON 1.1 protocol sends timestamps as epoch seconds.
      if (typeof value !== 'number') fail('expected epoch seconds (a number)');
      return;
    case 'blob':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) fail('expected base64');
      return;
    default:
      fail(`unhandled type ${shape.type}`);
  }
}

describe.skipIf(!present)(
  present
    ? 'fidelity: Secrets Manager emulator against the service model'
    : 'fidelity: Secrets Manager emulator against the service model (../shared/fidelity absent)',
  () => {
    let model: Model;
    let emu: SecretsManagerEmulator;
    let sm: SecretsManagerClient;

    beforeAll(async () => {
      model = JSON.parse(readFileSync(modelPath, 'utf8')) as Model;
      const clock = new ManualClock();
      emu = await startSecretsManagerEmulator({
        clock,
        recordExchanges: true,
        secrets: [{ name: 'seed/db', value: '{"password":"fidelity-seed-1"}', tags: { env: 'prod' } }],
      });
      sm = new SecretsManagerClient({
        endpoint: emu.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKID', secretAccessKey: 'fake-secret-key' },
        maxAttempts: 1,
      });
      const tolerate = (p: Promise<unknown>) => p.catch(() => undefined);
      const T1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
      const T2 = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

      // Every operation, successes first.
      await sm.send(
        new CreateSecretCommand({
          Name: 'f/app',
          SecretString: 'fidelity-v1',
          Description: 'app',
          Tags: [{ Key: 'team', Value: 'sre' }],
          ClientRequestToken: T1,
        }),
      );
      await sm.send(new CreateSecretCommand({ Name: 'f/empty' }));
      await sm.send(new CreateSecretCommand({ Name: 'f/bin', SecretBinary: new Uint8Array([1, 2, 3]) }));
      await sm.send(new DescribeSecretCommand({ SecretId: 'f/app' }));
      await sm.send(new ListSecretsCommand({ MaxResults: 1 }));
      await sm.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'tag-key', Values: ['team'] }],
          SortBy: 'name',
          SortOrder: 'asc',
        }),
      );
      await sm.send(new GetSecretValueCommand({ SecretId: 'f/app' }));
      await sm.send(new GetSecretValueCommand({ SecretId: 'f/bin' }));
      await sm.send(
        new RotateSecretCommand({
          SecretId: 'f/app',
          RotationRules: { AutomaticallyAfterDays: 7 },
          ClientRequestToken: T2,
        }),
      );
      await sm.send(
        new PutSecretValueCommand({
          SecretId: 'f/app',
          SecretString: 'fidelity-v2',
          VersionStages: ['AWSPENDING'],
          ClientRequestToken: T2,
        }),
      );
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 'f/app',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: T2,
          RemoveFromVersionId: T1,
        }),
      );
      await sm.send(new DescribeSecretCommand({ SecretId: 'f/app' }));
      await sm.send(new ListSecretsCommand({}));
      await sm.send(
        new ListSecretVersionIdsCommand({ SecretId: 'f/app', IncludeDeprecated: true, MaxResults: 1 }),
      );
      await sm.send(new GetRandomPasswordCommand({ PasswordLength: 20, IncludeSpace: true }));
      await sm.send(new TagResourceCommand({ SecretId: 'f/app', Tags: [{ Key: 'owner', Value: 'me' }] }));
      await sm.send(new DeleteSecretCommand({ SecretId: 'f/empty', RecoveryWindowInDays: 7 }));
      await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
      await sm.send(new DeleteSecretCommand({ SecretId: 'f/bin', ForceDeleteWithoutRecovery: true }));

      // And the errors each operation can produce.
      await tolerate(sm.send(new CreateSecretCommand({ Name: 'f/app', SecretString: 'dup' })));
      await tolerate(sm.send(new CreateSecretCommand({ Name: 'f/empty', SecretString: 'x' })));
      await tolerate(sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' })));
      await tolerate(sm.send(new DescribeSecretCommand({ SecretId: 'missing' })));
      await tolerate(sm.send(new ListSecretsCommand({ NextToken: 'garbage' })));
      await tolerate(sm.send(new ListSecretsCommand({ MaxResults: 1000 })));
      await tolerate(sm.send(new GetSecretValueCommand({ SecretId: 'missing' })));
      await tolerate(sm.send(new GetSecretValueCommand({ SecretId: 'f/empty' })));
      await tolerate(sm.send(new GetSecretValueCommand({ SecretId: 'f/app', VersionStage: 'NOPE' })));
      await tolerate(
        sm.send(
          new PutSecretValueCommand({ SecretId: 'f/app', SecretString: 'changed', ClientRequestToken: T2 }),
        ),
      );
      await tolerate(sm.send(new PutSecretValueCommand({ SecretId: 'f/empty', SecretString: 'x' })));
      await tolerate(sm.send(new PutSecretValueCommand({ SecretId: 'missing', SecretString: 'x' })));
      await tolerate(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'f/app',
            VersionStage: 'AWSCURRENT',
            MoveToVersionId: T1,
          }),
        ),
      );
      await tolerate(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'missing',
            VersionStage: 'X',
            MoveToVersionId: T1,
          }),
        ),
      );
      await tolerate(
        sm.send(
          new UpdateSecretVersionStageCommand({
            SecretId: 'f/empty',
            VersionStage: 'X',
            MoveToVersionId: T1,
          }),
        ),
      );
      await tolerate(
        sm.send(
          new PutSecretValueCommand({
            SecretId: 'f/app',
            SecretString: 'stuck',
            VersionStages: ['AWSPENDING'],
          }),
        ),
      );
      await tolerate(sm.send(new RotateSecretCommand({ SecretId: 'f/app' })));
      await tolerate(sm.send(new RotateSecretCommand({ SecretId: 'missing' })));
      await tolerate(
        sm.send(
          new RotateSecretCommand({ SecretId: 'seed/db', RotationRules: { AutomaticallyAfterDays: 5000 } }),
        ),
      );
      await tolerate(
        sm.send(
          new GetRandomPasswordCommand({
            ExcludeLowercase: true,
            ExcludeUppercase: true,
            ExcludeNumbers: true,
            ExcludePunctuation: true,
          }),
        ),
      );
      await tolerate(
        sm.send(new TagResourceCommand({ SecretId: 'missing', Tags: [{ Key: 'a', Value: 'b' }] })),
      );
      await tolerate(
        sm.send(new TagResourceCommand({ SecretId: 'f/app', Tags: [{ Key: 'aws:reserved', Value: 'b' }] })),
      );
      await tolerate(sm.send(new DeleteSecretCommand({ SecretId: 'missing' })));
      await tolerate(sm.send(new DeleteSecretCommand({ SecretId: 'f/empty' })));
      await tolerate(sm.send(new DeleteSecretCommand({ SecretId: 'f/app', RecoveryWindowInDays: 1 })));
      await tolerate(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'missing' })));
      await tolerate(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'f/app', NextToken: 'garbage' })));

      // Injected faults.
      emu.faults.add({ kind: 'status', status: 500, path: '/DescribeSecret', times: 1 });
      await tolerate(sm.send(new DescribeSecretCommand({ SecretId: 'f/app' })));
      emu.faults.add({ kind: 'throttle', path: '/ListSecrets', times: 1 });
      await tolerate(sm.send(new ListSecretsCommand({})));
    });

    afterAll(async () => {
      sm?.destroy();
      await emu?.close();
    });

    it('exercised every operation the emulator serves, with successes and errors', () => {
      const ops = new Set(emu.exchanges.map((x) => x.op));
      for (const op of [
        'CreateSecret',
        'DescribeSecret',
        'ListSecrets',
        'GetSecretValue',
        'PutSecretValue',
        'UpdateSecretVersionStage',
        'GetRandomPassword',
        'RotateSecret',
        'TagResource',
        'DeleteSecret',
        'ListSecretVersionIds',
      ]) {
        expect(ops.has(op), op).toBe(true);
        expect(model.operations[op], op).toBeDefined();
        expect(
          emu.exchanges.some((x) => x.op === op && x.status === 200),
          `${op} success`,
        ).toBe(true);
        expect(
          emu.exchanges.some((x) => x.op === op && x.status !== 200),
          `${op} error`,
        ).toBe(true);
      }
    });

    it('every request the emulator accepted satisfies the input shape (and out-of-range ones were refused)', () => {
      const problems: string[] = [];
      for (const x of emu.exchanges.filter((e) => e.status === 200)) {
        validate(model, model.operations[x.op]!.input.shape, x.request, `${x.op} request`, problems);
      }
      expect(problems).toEqual([]);
      const refused = emu.exchanges.filter((e) => e.status !== 200 && e.request !== undefined);
      const outOfRange: string[] = [];
      for (const x of refused) {
        const before = outOfRange.length;
        validate(model, model.operations[x.op]!.input.shape, x.request, x.op, outOfRange);
        if (outOfRange.length > before)
          expect((x.response as { __type: string }).__type, x.op).toBe('InvalidParameterException');
      }
      expect(outOfRange.length).toBeGreaterThan(0);
    });

    it('successful responses match the output shapes', () => {
      const problems: string[] = [];
      for (const x of emu.exchanges.filter((e) => e.status === 200)) {
        const output = model.operations[x.op]!.output;
        if (output) validate(model, output.shape, x.response, `${x.op} response`, problems);
        else expect(x.response, `${x.op} has no output shape`).toEqual({});
      }
      expect(problems).toEqual([]);
    });

    it("every error is one the operation's model lists, shaped as an exception", () => {
      const problems: string[] = [];
      let errors = 0;
      for (const x of emu.exchanges.filter((e) => e.status !== 200)) {
        errors++;
        const body = x.response as { __type?: string; Message?: string };
        const listed = (model.operations[x.op]!.errors ?? []).map((e) => e.shape);
        const type = body.__type ?? '';
        if (COMMON_ERRORS.has(type)) {
          if (!x.injected) problems.push(`${x.op}: ${type} returned without an injected fault`);
          continue;
        }
        if (!listed.includes(type))
          problems.push(`${x.op}: ${type} is not in the model's errors (${listed.join(', ')})`);
        const shape = model.shapes[type];
        if (!shape || (shape as { exception?: boolean }).exception !== true)
          problems.push(`${type}: no exception shape`);
        const fault = (model.shapes[type] as { fault?: boolean } | undefined)?.fault === true;
        if (fault !== x.status >= 500) problems.push(`${x.op}: ${type} answered with HTTP ${x.status}`);
        validate(model, type, { Message: body.Message }, `${x.op} ${type}`, problems);
        if (typeof body.Message !== 'string' || body.Message.length === 0)
          problems.push(`${x.op}: ${type} has no Message`);
      }
      expect(errors).toBeGreaterThan(20);
      expect(problems).toEqual([]);
    });

    it('answers with the protocol the model declares', () => {
      expect(model.metadata.targetPrefix).toBe('secretsmanager');
      expect(model.metadata.jsonVersion).toBe('1.1');
    });
  },
);
