import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../core/clock.js';
import { dropConnection, FaultInjector } from '../faults.js';
import { AwsJsonError } from './aws-error.js';
import { SecretState, type SecretRecord, type SeedSecret } from './secret-state.js';
import type { Req } from './request-fields.js';

export interface SecretsManagerEmulatorOptions {
  secrets?: SeedSecret[];
  clock?: Clock;
  region?: string;
  account?: string;
  /** Port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Versions per secret before PutSecretValue fails with LimitExceededException (AWS: 100). */
  maxVersionsPerSecret?: number;
  /** Keep every request and response in `exchanges` (fidelity tests). */
  recordExchanges?: boolean;
}

/** A write the emulator accepted; never carries a secret value. */
export interface SecretsManagerWrite {
  op: string;
  secretId: string;
  at: Date;
}

/** One request/response pair, kept when `recordExchanges` is on. */
export interface SecretsManagerExchange {
  op: string;
  request: unknown;
  status: number;
  response: unknown;
  /** True when a fault rule produced the response. */
  injected: boolean;
}

export interface SecretsManagerEmulator {
  /** Endpoint to give the SDK client (`endpoint: url`). */
  url: string;
  region: string;
  account: string;
  writes: SecretsManagerWrite[];
  exchanges: SecretsManagerExchange[];
  /** Rules match method POST and the path `/<Operation>` (e.g. `/GetSecretValue`). */
  faults: FaultInjector;
  /** A copy of a secret's state, including its versions; for tests and the sandbox only. */
  secret(nameOrArn: string): SecretRecord | undefined;
  secretNames(): string[];
  /** Adds (or replaces) a secret directly, without a request; for sandbox fleets. */
  addSecret(seed: SeedSecret): void;
  close(): Promise<void>;
}

const WRITES = new Set([
  'CreateSecret',
  'PutSecretValue',
  'UpdateSecretVersionStage',
  'RotateSecret',
  'TagResource',
  'DeleteSecret',
]);
const CONTENT_TYPE = 'application/x-amz-json-1.1';

type Handler = (req: Req) => Record<string, unknown>;

/**
 * An AWS Secrets Manager emulator speaking the JSON 1.1 protocol (`POST /`,
 * `X-Amz-Target: secretsmanager.<Op>`), for use through @aws-sdk/client-secrets-manager.
 * Requests must carry an Authorization header (SigV4 signatures are not verified).
 */
export async function startSecretsManagerEmulator(
  opts: SecretsManagerEmulatorOptions = {},
): Promise<SecretsManagerEmulator> {
  const region = opts.region ?? 'us-east-1';
  const account = opts.account ?? '123456789012';
  const state = new SecretState({
    clock: opts.clock ?? systemClock,
    region,
    account,
    maxVersionsPerSecret: opts.maxVersionsPerSecret ?? 100,
  });
  for (const seed of opts.secrets ?? []) state.seed(seed);
  const handlers: Record<string, Handler> = {
    CreateSecret: (r) => state.CreateSecret(r),
    DescribeSecret: (r) => state.DescribeSecret(r),
    ListSecrets: (r) => state.ListSecrets(r),
    GetSecretValue: (r) => state.GetSecretValue(r),
    PutSecretValue: (r) => state.PutSecretValue(r),
    UpdateSecretVersionStage: (r) => state.UpdateSecretVersionStage(r),
    GetRandomPassword: (r) => state.GetRandomPassword(r),
    RotateSecret: (r) => state.RotateSecret(r),
    TagResource: (r) => state.TagResource(r),
    DeleteSecret: (r) => state.DeleteSecret(r),
    ListSecretVersionIds: (r) => state.ListSecretVersionIds(r),
  };
  const faults = new FaultInjector();
  const writes: SecretsManagerWrite[] = [];
  const exchanges: SecretsManagerExchange[] = [];

  const send = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      ...extra,
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
    const record = (status: number, request: unknown, response: unknown, injected = false) => {
      if (opts.recordExchanges) exchanges.push({ op, request, status, response, injected });
    };
    const fail = (
      err: AwsJsonError,
      request: unknown,
      injected = false,
      extra: Record<string, string> = {},
    ) => {
      record(err.status, request, err.body(), injected);
      send(res, err.status, err.body(), extra);
    };

    if (req.method !== 'POST' || (req.url ?? '/') !== '/') {
      return fail(new AwsJsonError('UnknownOperationException', 'Only POST / is served.', 404), undefined);
    }
    const action = await faults.decide('POST', `/${op}`);
    if (action.kind === 'drop') return dropConnection(req, res);
    if (action.kind === 'status') {
      const extra: Record<string, string> =
        action.retryAfterSeconds !== undefined ? { 'Retry-After': String(action.retryAfterSeconds) } : {};
      if (action.body !== undefined) {
        record(action.status, undefined, action.body, true);
        return send(res, action.status, action.body, extra);
      }
      return fail(faultError(action.status), undefined, true, extra);
    }
    if (!req.headers.authorization) {
      return fail(
        new AwsJsonError('MissingAuthenticationTokenException', 'Missing Authentication Token'),
        undefined,
      );
    }
    if (!String(req.headers['content-type'] ?? '').startsWith(CONTENT_TYPE)) {
      return fail(
        new AwsJsonError('UnsupportedMediaTypeException', `Content-Type must be ${CONTENT_TYPE}.`, 415),
        undefined,
      );
    }
    const handler = Object.hasOwn(handlers, op) ? handlers[op] : undefined;
    if (!handler) {
      return fail(new AwsJsonError('UnknownOperationException', `Unknown operation ${target}`), undefined);
    }
    let body: Req;
    try {
      const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Req;
    } catch {
      return fail(
        new AwsJsonError('SerializationException', 'The request body is not a JSON object.'),
        undefined,
      );
    }
    try {
      const out = handler(body);
      if (WRITES.has(op))
        writes.push({
          op,
          secretId:
            typeof body.SecretId === 'string'
              ? body.SecretId
              : typeof body.Name === 'string'
                ? body.Name
                : '',
          at: new Date(),
        });
      record(200, body, out);
      send(res, 200, out);
    } catch (err) {
      if (err instanceof AwsJsonError) return fail(err, body);
      return fail(
        new AwsJsonError('InternalServiceError', 'An error occurred on the server side.', 500),
        body,
      );
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        send(
          res,
          500,
          new AwsJsonError('InternalServiceError', 'An error occurred on the server side.', 500).body(),
        );
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    region,
    account,
    writes,
    exchanges,
    faults,
    secret: (id) => state.get(id),
    secretNames: () => state.names(),
    addSecret: (seed) => state.seed(seed),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** AWS answers throttling with HTTP 400 and `ThrottlingException`; server faults with 5xx. */
function faultError(status: number): AwsJsonError {
  if (status === 429) return new AwsJsonError('ThrottlingException', 'Rate exceeded', 400);
  if (status === 503)
    return new AwsJsonError('ServiceUnavailable', 'Service is unavailable. Please try again later.', 503);
  return new AwsJsonError('InternalServiceError', 'An error occurred on the server side.', status);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
