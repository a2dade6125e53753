import type * as SdkModule from '@aws-sdk/client-secrets-manager';
import type {
  DescribeSecretResponse,
  SecretListEntry,
  SecretsManagerClient,
  SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { isSecretKey, type Redactor } from '../../core/redact.js';
import { BackendError, type BackendErrorKind } from '../errors.js';
import type { RandomPasswordOptions, SecretMetadata, SecretsManagerProvider, SecretValue } from './types.js';

type Sdk = typeof SdkModule;

export interface SecretsManagerProviderOptions {
  region: string;
  /** The runtime's redactor: every secret value read, written or generated is registered with it. */
  redactor: Redactor;
  /** Only secrets whose names start with this are visible (e.g. `prod/`). */
  prefix?: string;
  /** Endpoint override (the sandbox emulator); the AWS endpoint of the region otherwise. */
  endpoint?: string;
  /** Static credentials (sandbox); the AWS default credential chain otherwise. */
  credentials?: SecretsManagerClientConfig['credentials'];
  /** SDK attempts per call (default 1: retries are day2's decision, not the SDK's). */
  maxAttempts?: number;
  /** Per-call timeout (default 10 s). */
  timeoutMs?: number;
  /** Cap on secrets returned by listSecrets (default 1000). */
  listLimit?: number;
}

const BACKEND = 'secrets-manager';

/** SecretsManagerProvider over @aws-sdk/client-secrets-manager, imported on first use. */
export class AwsSecretsManagerProvider implements SecretsManagerProvider {
  private sdk?: Promise<{ sdk: Sdk; client: SecretsManagerClient }>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: SecretsManagerProviderOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async listSecrets(prefix?: string): Promise<SecretMetadata[]> {
    const effective = prefix ?? this.opts.prefix;
    if (effective !== undefined) this.assertInScope(effective, 'ListSecrets');
    const { sdk, client } = await this.load();
    const limit = this.opts.listLimit ?? 1000;
    const out: SecretMetadata[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.send('ListSecrets', effective ?? '*', () =>
        client.send(
          new sdk.ListSecretsCommand({
            Filters: effective ? [{ Key: 'name', Values: [effective] }] : undefined,
            MaxResults: 100,
            NextToken: nextToken,
          }),
          { abortSignal: AbortSignal.timeout(this.timeoutMs) },
        ),
      );
      for (const entry of page.SecretList ?? []) {
        // The name filter is a prefix match already; this guards against a looser backend.
        if (effective && !entry.Name?.startsWith(effective)) continue;
        out.push(toMetadata(entry, entry.SecretVersionsToStages));
      }
      nextToken = page.NextToken;
    } while (nextToken && out.length < limit);
    return out.slice(0, limit);
  }

  async describeSecret(secretId: string): Promise<SecretMetadata> {
    this.assertInScope(secretId, 'DescribeSecret');
    const { sdk, client } = await this.load();
    const res: DescribeSecretResponse = await this.send('DescribeSecret', secretId, () =>
      client.send(new sdk.DescribeSecretCommand({ SecretId: secretId }), {
        abortSignal: AbortSignal.timeout(this.timeoutMs),
      }),
    );
    return toMetadata(res, res.VersionIdsToStages);
  }

  async getSecretValue(
    secretId: string,
    opts: { versionId?: string; versionStage?: string } = {},
  ): Promise<SecretValue> {
    this.assertInScope(secretId, 'GetSecretValue');
    const { sdk, client } = await this.load();
    const res = await this.send('GetSecretValue', secretId, () =>
      client.send(
        new sdk.GetSecretValueCommand({
          SecretId: secretId,
          VersionId: opts.versionId,
          VersionStage: opts.versionStage,
        }),
        {
          abortSignal: AbortSignal.timeout(this.timeoutMs),
        },
      ),
    );
    const binary = res.SecretString === undefined && res.SecretBinary !== undefined;
    const value = binary
      ? Buffer.from(res.SecretBinary as Uint8Array).toString('base64')
      : (res.SecretString ?? '');
    this.opts.redactor.registerSecret(value);
    if (!binary) registerJsonMembers(this.opts.redactor, value);
    return { versionId: res.VersionId ?? '', versionStages: res.VersionStages ?? [], value, binary };
  }

  async createPendingVersion(
    secretId: string,
    value: string,
    clientRequestToken: string,
  ): Promise<{ versionId: string }> {
    this.assertInScope(secretId, 'PutSecretValue');
    this.opts.redactor.registerSecret(value);
    registerJsonMembers(this.opts.redactor, value);
    const { sdk, client } = await this.load();
    const res = await this.send('PutSecretValue', secretId, () =>
      client.send(
        new sdk.PutSecretValueCommand({
          SecretId: secretId,
          SecretString: value,
          ClientRequestToken: clientRequestToken,
          VersionStages: ['AWSPENDING'],
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      ),
    );
    return { versionId: res.VersionId ?? clientRequestToken };
  }

  async moveCurrent(secretId: string, versionId: string, fromVersionId: string): Promise<void> {
    this.assertInScope(secretId, 'UpdateSecretVersionStage');
    const { sdk, client } = await this.load();
    await this.send('UpdateSecretVersionStage', secretId, () =>
      client.send(
        new sdk.UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: versionId,
          RemoveFromVersionId: fromVersionId,
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      ),
    );
  }

  async removeStage(secretId: string, stage: string, versionId: string): Promise<void> {
    this.assertInScope(secretId, 'UpdateSecretVersionStage');
    const { sdk, client } = await this.load();
    await this.send('UpdateSecretVersionStage', secretId, () =>
      client.send(
        new sdk.UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: stage,
          RemoveFromVersionId: versionId,
        }),
        {
          abortSignal: AbortSignal.timeout(this.timeoutMs),
        },
      ),
    );
  }

  async getRandomPassword(opts: RandomPasswordOptions = {}): Promise<string> {
    const { sdk, client } = await this.load();
    const res = await this.send('GetRandomPassword', '-', () =>
      client.send(
        new sdk.GetRandomPasswordCommand({
          PasswordLength: opts.length,
          ExcludeCharacters: opts.excludeCharacters,
          ExcludeNumbers: opts.excludeNumbers,
          ExcludePunctuation: opts.excludePunctuation,
          ExcludeUppercase: opts.excludeUppercase,
          ExcludeLowercase: opts.excludeLowercase,
          IncludeSpace: opts.includeSpace,
          RequireEachIncludedType: opts.requireEachIncludedType,
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      ),
    );
    const password = res.RandomPassword ?? '';
    this.opts.redactor.registerSecret(password);
    return password;
  }

  async tagResource(secretId: string, tags: Record<string, string>): Promise<void> {
    this.assertInScope(secretId, 'TagResource');
    const { sdk, client } = await this.load();
    await this.send('TagResource', secretId, () =>
      client.send(
        new sdk.TagResourceCommand({
          SecretId: secretId,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
        {
          abortSignal: AbortSignal.timeout(this.timeoutMs),
        },
      ),
    );
  }

  /** Releases the SDK client's sockets. */
  close(): void {
    void this.sdk?.then(({ client }) => client.destroy()).catch(() => undefined);
  }

  private load(): Promise<{ sdk: Sdk; client: SecretsManagerClient }> {
    this.sdk ??= import('@aws-sdk/client-secrets-manager').then((sdk) => ({
      sdk,
      client: new sdk.SecretsManagerClient({
        region: this.opts.region,
        endpoint: this.opts.endpoint,
        credentials: this.opts.credentials,
        maxAttempts: this.opts.maxAttempts ?? 1,
      }),
    }));
    return this.sdk;
  }

  /** Refuses names (or ARNs) outside the configured prefix, so one environment cannot touch another's secrets. */
  private assertInScope(secretId: string, op: string): void {
    const prefix = this.opts.prefix;
    if (!prefix) return;
    const name = secretId.startsWith('arn:') ? (secretId.split(':secret:')[1] ?? '') : secretId;
    if (!name.startsWith(prefix)) {
      throw new BackendError(
        BACKEND,
        'forbidden',
        `${op} ${secretId}: outside this environment's secret prefix "${prefix}"`,
      );
    }
  }

  private async send<T>(op: string, secretId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateError(err, op, secretId, this.timeoutMs, this.opts.redactor);
    }
  }
}

export function createSecretsManagerProvider(opts: SecretsManagerProviderOptions): AwsSecretsManagerProvider {
  return new AwsSecretsManagerProvider(opts);
}

const KINDS: Record<string, BackendErrorKind> = {
  ResourceNotFoundException: 'not_found',
  ResourceExistsException: 'conflict',
  InvalidRequestException: 'conflict',
  PreconditionNotMetException: 'conflict',
  InvalidParameterException: 'invalid',
  InvalidNextTokenException: 'invalid',
  MalformedPolicyDocumentException: 'invalid',
  LimitExceededException: 'invalid',
  ValidationException: 'invalid',
  SerializationException: 'invalid',
  ThrottlingException: 'throttled',
  TooManyRequestsException: 'throttled',
  RequestLimitExceeded: 'throttled',
  AccessDeniedException: 'forbidden',
  AccessDenied: 'forbidden',
  UnrecognizedClientException: 'forbidden',
  InvalidSignatureException: 'forbidden',
  ExpiredTokenException: 'forbidden',
  MissingAuthenticationTokenException: 'forbidden',
  IncompleteSignatureException: 'forbidden',
  CredentialsProviderError: 'forbidden',
  InternalServiceError: 'unavailable',
  ServiceUnavailable: 'unavailable',
  DecryptionFailure: 'unavailable',
  EncryptionFailure: 'unavailable',
};

/**
 * Maps an SDK exception (its `name` is the `__type` AWS returned) to a BackendError kind, with
 * the secrets `redactor` knows masked in its message.
 */
export function translateError(
  err: unknown,
  op: string,
  secretId: string,
  timeoutMs: number,
  redactor: Redactor,
): BackendError {
  if (err instanceof BackendError) return err;
  const e = err as Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string };
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new BackendError(BACKEND, 'unavailable', `${op} ${secretId} timed out after ${timeoutMs} ms`, {
      cause: err,
    });
  }
  let kind = KINDS[name];
  if (!kind) {
    if (status === undefined) kind = 'unavailable';
    else if (status === 429) kind = 'throttled';
    else if (status >= 500) kind = 'unavailable';
    else if (status === 401) kind = 'forbidden';
    else if (status === 403) kind = 'forbidden';
    else if (status === 404) kind = 'not_found';
    else kind = 'invalid';
  }
  const detail =
    status === undefined && kind === 'unavailable'
      ? `cannot reach Secrets Manager (${name}: ${e?.message ?? ''})`
      : `${name}: ${e?.message ?? ''}`;
  return new BackendError(BACKEND, kind, redactor.redactText(`${op} ${secretId} failed: ${detail}`), {
    status,
    cause: err,
  });
}

function toMetadata(
  s: SecretListEntry | DescribeSecretResponse,
  stages: Record<string, string[]> | undefined,
): SecretMetadata {
  const rules = s.RotationRules;
  const meta: SecretMetadata = {
    name: s.Name ?? '',
    arn: s.ARN ?? '',
    tags: Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
    rotationEnabled: s.RotationEnabled === true,
    versionStages: Object.fromEntries(Object.entries(stages ?? {}).map(([id, labels]) => [id, [...labels]])),
  };
  if (s.Description !== undefined) meta.description = s.Description;
  if (s.CreatedDate) meta.createdDate = s.CreatedDate;
  if (s.LastChangedDate) meta.lastChangedDate = s.LastChangedDate;
  if (s.LastRotatedDate) meta.lastRotatedDate = s.LastRotatedDate;
  if (s.LastAccessedDate) meta.lastAccessedDate = s.LastAccessedDate;
  if (s.NextRotationDate) meta.nextRotationDate = s.NextRotationDate;
  if (s.DeletedDate) meta.deletedDate = s.DeletedDate;
  if (rules) {
    meta.rotationRules = {};
    if (rules.AutomaticallyAfterDays !== undefined)
      meta.rotationRules.automaticallyAfterDays = rules.AutomaticallyAfterDays;
    if (rules.ScheduleExpression !== undefined)
      meta.rotationRules.scheduleExpression = rules.ScheduleExpression;
    if (rules.Duration !== undefined) meta.rotationRules.duration = rules.Duration;
  }
  return meta;
}

/** Database-style secrets are JSON; their password-like members are secrets on their own too. */
function registerJsonMembers(redactor: Redactor, value: string): void {
  if (!value.startsWith('{')) return;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (parsed && typeof parsed === 'object') {
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>))
        if (typeof v === 'string' && isSecretKey(k)) redactor.registerSecret(v);
    }
  } catch {
    // not JSON: the whole value is registered already
  }
}
