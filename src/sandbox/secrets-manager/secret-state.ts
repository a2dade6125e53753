import { randomInt, randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { AwsJsonError, invalidParameter, invalidRequest, messages, notFound } from './aws-error.js';
import { filterMatches, parseFilters } from './list-filters.js';
import { generateRandomPassword, type RandomPasswordOptions } from './random-password.js';
import {
  optBool,
  optInt,
  optList,
  optString,
  optTags,
  reqString,
  type Req,
  type Tag,
} from './request-fields.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

/** One version of a secret. Exactly one of `secretString` / `secretBinary` (base64) is set. */
export interface SecretVersion {
  versionId: string;
  secretString?: string;
  secretBinary?: string;
  stages: string[];
  createdDate: Date;
  lastAccessedDate?: Date;
}

/** The emulator's record of a secret, as tests may inspect it. */
export interface SecretRecord {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  createdDate: Date;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  lastRotatedDate?: Date;
  /** When DeleteSecret was called (DescribeSecret's DeletedDate). */
  deletedDate?: Date;
  /** When the secret is purged (DeleteSecret's DeletionDate). */
  deletionDate?: Date;
  rotationEnabled?: boolean;
  rotationLambdaArn?: string;
  rotationRules?: RotationRules;
  versions: SecretVersion[];
  seq: number;
}

/** A secret to start the emulator with. */
export interface SeedSecret {
  name: string;
  /** Initial SecretString (AWSCURRENT); no version when omitted. */
  value?: string;
  description?: string;
  tags?: Record<string, string> | Tag[];
  kmsKeyId?: string;
  createdDate?: Date | string;
  lastRotatedDate?: Date | string;
  rotationEnabled?: boolean;
  rotationRules?: RotationRules;
  rotationLambdaArn?: string;
}

export interface SecretStateOptions {
  clock: Clock;
  region: string;
  account: string;
  /** Versions a secret may hold before PutSecretValue fails with LimitExceededException. */
  maxVersionsPerSecret: number;
}

const DAY_MS = 86_400_000;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;

const epoch = (d: Date | undefined): number | undefined => (d ? d.getTime() / 1000 : undefined);

/** Drops undefined members so that responses carry only what AWS would send. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * The state machine behind the emulator: secrets, versions and staging labels with the
 * semantics AWS documents. Each operation takes the decoded JSON request and returns the JSON
 * response, or throws AwsJsonError.
 */
export class SecretState {
  private readonly secrets = new Map<string, SecretRecord>();
  private seq = 0;

  constructor(private readonly opts: SecretStateOptions) {}

  seed(seed: SeedSecret): void {
    const now = seed.createdDate ? new Date(seed.createdDate) : this.now();
    const tags = Array.isArray(seed.tags)
      ? seed.tags
      : Object.entries(seed.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const rec = this.newRecord(seed.name, now, tags, seed.description, seed.kmsKeyId);
    if (seed.value !== undefined)
      rec.versions.push({
        versionId: randomUUID(),
        secretString: seed.value,
        stages: [AWSCURRENT],
        createdDate: now,
      });
    if (seed.lastRotatedDate) rec.lastRotatedDate = new Date(seed.lastRotatedDate);
    if (seed.rotationEnabled !== undefined) rec.rotationEnabled = seed.rotationEnabled;
    if (seed.rotationRules) rec.rotationRules = { ...seed.rotationRules };
    if (seed.rotationLambdaArn) rec.rotationLambdaArn = seed.rotationLambdaArn;
    this.secrets.set(rec.name, rec);
  }

  /** A deep copy of a secret's record (purged secrets are gone). */
  get(nameOrArn: string): SecretRecord | undefined {
    this.purge();
    const rec = this.find(nameOrArn);
    return rec ? structuredClone(rec) : undefined;
  }

  names(): string[] {
    this.purge();
    return [...this.secrets.keys()];
  }

  // --- operations -------------------------------------------------------------------------

  CreateSecret(req: Req): Record<string, unknown> {
    const name = reqString(req, 'Name', 1, 512);
    if (!NAME_PATTERN.test(name)) {
      throw invalidParameter(
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const token = optString(req, 'ClientRequestToken', 32, 64);
    const description = optString(req, 'Description', 0, 2048);
    const kmsKeyId = optString(req, 'KmsKeyId', 0, 2048);
    const tags = optTags(req) ?? [];
    const value = this.valueOf(req);
    this.purge();
    const existing = this.secrets.get(name);
    if (existing) {
      if (existing.deletedDate) throw invalidRequest(messages.scheduledForDeletion);
      const same = token ? existing.versions.find((v) => v.versionId === token) : undefined;
      if (same && value && sameValue(same, value))
        return compact({ ARN: existing.arn, Name: existing.name, VersionId: same.versionId });
      throw new AwsJsonError('ResourceExistsException', messages.alreadyExists(name));
    }
    const now = this.now();
    const rec = this.newRecord(name, now, dedupeTags(tags), description, kmsKeyId);
    let versionId: string | undefined;
    if (value) {
      versionId = token ?? randomUUID();
      rec.versions.push({ versionId, ...value, stages: [AWSCURRENT], createdDate: now });
    }
    this.secrets.set(name, rec);
    return compact({ ARN: rec.arn, Name: rec.name, VersionId: versionId });
  }

  DescribeSecret(req: Req): Record<string, unknown> {
    const rec = this.resolve(req);
    return compact({
      ARN: rec.arn,
      Name: rec.name,
      Description: rec.description,
      KmsKeyId: rec.kmsKeyId,
      ...this.rotationView(rec),
      LastChangedDate: epoch(rec.lastChangedDate),
      LastAccessedDate: epoch(rec.lastAccessedDate),
      DeletedDate: epoch(rec.deletedDate),
      Tags: rec.tags.map((t) => ({ ...t })),
      VersionIdsToStages: stagesMap(rec),
      CreatedDate: epoch(rec.createdDate),
    });
  }

  ListSecrets(req: Req): Record<string, unknown> {
    const includeDeleted = optBool(req, 'IncludePlannedDeletion') ?? false;
    const max = optInt(req, 'MaxResults', 1, 100) ?? 100;
    const filters = parseFilters(optList(req, 'Filters'));
    const sortOrder = optString(req, 'SortOrder');
    if (sortOrder !== undefined && sortOrder !== 'asc' && sortOrder !== 'desc')
      throw invalidParameter('Invalid value for parameter SortOrder.');
    const sortBy = optString(req, 'SortBy') ?? 'created-date';
    const key = sortKeys[sortBy];
    if (!key) throw invalidParameter('Invalid value for parameter SortBy.');
    this.purge();
    const all = [...this.secrets.values()]
      .filter((s) => includeDeleted || !s.deletedDate)
      .filter((s) => filters.every((f) => filterMatches(f, s, this.opts.region)))
      .sort((a, b) => compareBy(key(a), key(b)) || a.seq - b.seq);
    if (sortOrder === 'desc') all.reverse();
    const start = decodeToken(optString(req, 'NextToken', 1, 4096), 'ListSecrets');
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? encodeToken('ListSecrets', start + max) : undefined;
    return compact({
      SecretList: page.map((rec) =>
        compact({
          ARN: rec.arn,
          Name: rec.name,
          Description: rec.description,
          KmsKeyId: rec.kmsKeyId,
          ...this.rotationView(rec),
          LastChangedDate: epoch(rec.lastChangedDate),
          LastAccessedDate: epoch(rec.lastAccessedDate),
          DeletedDate: epoch(rec.deletedDate),
          Tags: rec.tags.map((t) => ({ ...t })),
          SecretVersionsToStages: stagesMap(rec),
          CreatedDate: epoch(rec.createdDate),
        }),
      ),
      NextToken: next,
    });
  }

  GetSecretValue(req: Req): Record<string, unknown> {
    const rec = this.resolve(req);
    const versionId = optString(req, 'VersionId', 32, 64);
    const stage = optString(req, 'VersionStage', 1, 256);
    if (rec.deletedDate) throw invalidRequest(messages.markedForDeletion);
    let version: SecretVersion | undefined;
    if (versionId) {
      version = rec.versions.find((v) => v.versionId === versionId);
      if (!version) throw new AwsJsonError('ResourceNotFoundException', messages.versionNotFound(versionId));
      if (stage && !version.stages.includes(stage))
        throw new AwsJsonError('ResourceNotFoundException', messages.stageNotFound(stage));
    } else {
      const label = stage ?? AWSCURRENT;
      version = rec.versions.find((v) => v.stages.includes(label));
      if (!version) throw new AwsJsonError('ResourceNotFoundException', messages.stageNotFound(label));
    }
    const now = this.now();
    version.lastAccessedDate = startOfDay(now);
    rec.lastAccessedDate = startOfDay(now);
    return compact({
      ARN: rec.arn,
      Name: rec.name,
      VersionId: version.versionId,
      SecretString: version.secretString,
      SecretBinary: version.secretBinary,
      VersionStages: [...version.stages],
      CreatedDate: epoch(version.createdDate),
    });
  }

  PutSecretValue(req: Req): Record<string, unknown> {
    const rec = this.resolve(req);
    const token = optString(req, 'ClientRequestToken', 32, 64) ?? randomUUID();
    const value = this.valueOf(req);
    const stagesIn = optList(req, 'VersionStages');
    if (stagesIn && (stagesIn.length < 1 || stagesIn.length > 20))
      throw invalidParameter('VersionStages must list between 1 and 20 staging labels.');
    const stages = stagesIn ? stagesIn.map((s) => checkStage(s)) : [AWSCURRENT];
    if (rec.deletedDate) throw invalidRequest(messages.markedForDeletion);
    const existing = rec.versions.find((v) => v.versionId === token);
    if (existing) {
      if (!value || !sameValue(existing, value))
        throw new AwsJsonError('ResourceExistsException', messages.versionImmutable);
      return {
        ARN: rec.arn,
        Name: rec.name,
        VersionId: existing.versionId,
        VersionStages: [...existing.stages],
      };
    }
    if (!value) throw invalidParameter('You must provide either SecretString or SecretBinary.');
    this.checkVersionQuota(rec);
    const now = this.now();
    const version: SecretVersion = { versionId: token, ...value, stages: [], createdDate: now };
    rec.versions.push(version);
    // The first version of a secret is always AWSCURRENT.
    const labels =
      rec.versions.length === 1 && !stages.includes(AWSCURRENT) ? [...stages, AWSCURRENT] : stages;
    for (const label of new Set(labels)) this.attach(rec, label, version);
    rec.lastChangedDate = now;
    return { ARN: rec.arn, Name: rec.name, VersionId: version.versionId, VersionStages: [...version.stages] };
  }

  UpdateSecretVersionStage(req: Req): Record<string, unknown> {
    const rec = this.resolve(req);
    const stage = checkStage(req.VersionStage, true);
    const removeFrom = optString(req, 'RemoveFromVersionId', 32, 64);
    const moveTo = optString(req, 'MoveToVersionId', 32, 64);
    if (rec.deletedDate) throw invalidRequest(messages.markedForDeletion);
    if (!removeFrom && !moveTo)
      throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
    const owner = rec.versions.find((v) => v.stages.includes(stage));
    const target = moveTo ? rec.versions.find((v) => v.versionId === moveTo) : undefined;
    if (moveTo && !target) throw invalidParameter(`Not a valid version: ${moveTo}`);
    if (removeFrom && !rec.versions.some((v) => v.versionId === removeFrom))
      throw invalidParameter(`Not a valid version: ${removeFrom}`);
    if (target && owner === target) {
      if (removeFrom && removeFrom !== owner.versionId) {
        throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}.`);
      }
      return { ARN: rec.arn, Name: rec.name };
    }
    if (owner && !removeFrom && target)
      throw invalidParameter(messages.removeFromRequired(stage, owner.versionId));
    if (removeFrom && owner?.versionId !== removeFrom) {
      throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}.`);
    }
    if (!target && stage === AWSCURRENT) {
      throw invalidParameter(
        `You can't remove the staging label ${AWSCURRENT} from a version without moving it to another version.`,
      );
    }
    const now = this.now();
    if (target && target.stages.length >= 20) {
      throw new AwsJsonError('LimitExceededException', 'A version can have at most 20 staging labels.');
    }
    if (target) {
      const finishesRotation = stage === AWSCURRENT && target.stages.includes(AWSPENDING);
      this.attach(rec, stage, target);
      if (finishesRotation) rec.lastRotatedDate = now;
    } else if (owner) {
      owner.stages = owner.stages.filter((s) => s !== stage);
    }
    rec.lastChangedDate = now;
    return { ARN: rec.arn, Name: rec.name };
  }

  GetRandomPassword(req: Req): Record<string, unknown> {
    const opts: RandomPasswordOptions = compact({
      PasswordLength: optInt(req, 'PasswordLength', 1, 4096),
      ExcludeCharacters: optString(req, 'ExcludeCharacters', 0, 4096),
      ExcludeNumbers: optBool(req, 'ExcludeNumbers'),
      ExcludePunctuation: optBool(req, 'ExcludePunctuation'),
      ExcludeUppercase: optBool(req, 'ExcludeUppercase'),
      ExcludeLowercase: optBool(req, 'ExcludeLowercase'),
      IncludeSpace: optBool(req, 'IncludeSpace'),
      RequireEachIncludedType: optBool(req, 'RequireEachIncludedType'),
    });
    return { RandomPassword: generateRandomPassword(opts) };
  }

  /**
   * Stores the rotation configuration. There is no Lambda here: the rotation "runs" when a
   * caller creates the AWSPENDING version and moves AWSCURRENT onto it, which records
   * LastRotatedDate.
   */
  RotateSecret(req: Req): Record<string, unknown> {
    const rec = this.resolve(req);
    const token = optString(req, 'ClientRequestToken', 32, 64) ?? randomUUID();
    const lambda = optString(req, 'RotationLambdaARN', 0, 2048);
    const rules = req.RotationRules === undefined ? undefined : parseRotationRules(req.RotationRules);
    optBool(req, 'RotateImmediately');
    if (rec.deletedDate) throw invalidRequest(messages.markedForDeletion);
    const pending = rec.versions.find((v) => v.stages.includes(AWSPENDING));
    if (pending && !pending.stages.includes(AWSCURRENT)) throw invalidRequest(messages.rotationInProgress);
    if (lambda) rec.rotationLambdaArn = lambda;
    if (rules) rec.rotationRules = rules;
    rec.rotationEnabled = true;
    rec.lastChangedDate = this.now();
    return { ARN: rec.arn, Name: rec.name, VersionId: token };
  }

  TagResource(req: Req): Record<string, unknown> {
    const rec = this.resolve(req);
    const tags = optTags(req);
    if (!tags) throw invalidParameter('Missing required parameter in input: "Tags"');
    for (const tag of tags) {
      const existing = rec.tags.find((t) => t.Key === tag.Key);
      if (existing) existing.Value = tag.Value;
      else rec.tags.push({ ...tag });
    }
    if (rec.tags.length > 50) throw invalidParameter('A secret can have at most 50 tags.');
    rec.lastChangedDate = this.now();
    return {};
  }

  DeleteSecret(req: Req): Record<string, unknown> {
    const secretId = reqString(req, 'SecretId', 1, 2048);
    const window = optInt(req, 'RecoveryWindowInDays', -Infinity, Infinity);
    const force = optBool(req, 'ForceDeleteWithoutRecovery') ?? false;
    if (force && window !== undefined) {
      throw invalidParameter(
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (window !== undefined && (window < 7 || window > 30)) {
      throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    this.purge();
    const rec = this.find(secretId);
    const now = this.now();
    if (force) {
      // Forcing deletion of a missing secret is not an error (AWS documents this).
      if (!rec) return { ARN: this.arnFor(secretId), Name: secretId, DeletionDate: epoch(now) };
      this.secrets.delete(rec.name);
      return { ARN: rec.arn, Name: rec.name, DeletionDate: epoch(now) };
    }
    if (!rec) throw notFound();
    if (rec.deletedDate) throw invalidRequest(messages.markedForDeletion);
    rec.deletedDate = now;
    rec.deletionDate = new Date(now.getTime() + (window ?? 30) * DAY_MS);
    return { ARN: rec.arn, Name: rec.name, DeletionDate: epoch(rec.deletionDate) };
  }

  ListSecretVersionIds(req: Req): Record<string, unknown> {
    const rec = this.resolve(req);
    const max = optInt(req, 'MaxResults', 1, 100) ?? 100;
    const includeDeprecated = optBool(req, 'IncludeDeprecated') ?? false;
    const start = decodeToken(optString(req, 'NextToken', 1, 4096), 'ListSecretVersionIds');
    const all = rec.versions.filter((v) => includeDeprecated || v.stages.length > 0);
    const page = all.slice(start, start + max);
    return compact({
      Versions: page.map((v) =>
        compact({
          VersionId: v.versionId,
          VersionStages: v.stages.length > 0 ? [...v.stages] : undefined,
          LastAccessedDate: epoch(v.lastAccessedDate),
          CreatedDate: epoch(v.createdDate),
          KmsKeyIds: [rec.kmsKeyId ?? 'DefaultEncryptionKey'],
        }),
      ),
      NextToken: start + max < all.length ? encodeToken('ListSecretVersionIds', start + max) : undefined,
      ARN: rec.arn,
      Name: rec.name,
    });
  }

  // --- helpers ----------------------------------------------------------------------------

  private now(): Date {
    return this.opts.clock.now();
  }

  private newRecord(
    name: string,
    now: Date,
    tags: Tag[],
    description?: string,
    kmsKeyId?: string,
  ): SecretRecord {
    return compact<SecretRecord>({
      name,
      arn: this.arnFor(name),
      description,
      kmsKeyId,
      tags: tags.map((t) => ({ ...t })),
      createdDate: now,
      lastChangedDate: now,
      versions: [],
      seq: ++this.seq,
    });
  }

  private arnFor(name: string): string {
    let suffix = '';
    for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
    return `arn:aws:secretsmanager:${this.opts.region}:${this.opts.account}:secret:${name}-${suffix}`;
  }

  /** Removes secrets whose recovery window has passed. */
  private purge(): void {
    const now = this.now().getTime();
    for (const [name, rec] of this.secrets)
      if (rec.deletionDate && rec.deletionDate.getTime() <= now) this.secrets.delete(name);
  }

  /** Finds a secret by name, full ARN, or partial ARN (without the random suffix). */
  private find(id: string): SecretRecord | undefined {
    if (!id.startsWith('arn:')) return this.secrets.get(id);
    for (const rec of this.secrets.values()) if (rec.arn === id || rec.arn.slice(0, -7) === id) return rec;
    return undefined;
  }

  private resolve(req: Req): SecretRecord {
    const id = reqString(req, 'SecretId', 1, 2048);
    this.purge();
    const rec = this.find(id);
    if (!rec) throw notFound();
    return rec;
  }

  private valueOf(req: Req): { secretString: string } | { secretBinary: string } | undefined {
    const s = optString(req, 'SecretString', 1, 65536);
    const b = optString(req, 'SecretBinary', 1, 90000);
    if (s !== undefined && b !== undefined) {
      throw invalidParameter(
        "You can't specify both a binary secret value and a string secret value in the same secret.",
      );
    }
    if (s !== undefined) return { secretString: s };
    if (b !== undefined) return { secretBinary: b };
    return undefined;
  }

  /** Attaches `label` to `version`, taking it off its previous owner; AWSCURRENT drags AWSPREVIOUS along. */
  private attach(rec: SecretRecord, label: string, version: SecretVersion): void {
    const owner = rec.versions.find((v) => v.stages.includes(label));
    if (owner === version) return;
    if (owner) owner.stages = owner.stages.filter((s) => s !== label);
    version.stages.push(label);
    if (label === AWSCURRENT && owner) {
      for (const v of rec.versions) v.stages = v.stages.filter((s) => s !== AWSPREVIOUS);
      owner.stages.push(AWSPREVIOUS);
    }
  }

  private checkVersionQuota(rec: SecretRecord): void {
    const cutoff = this.now().getTime() - DAY_MS;
    // AWS removes deprecated versions in the background once there are many; versions created
    // in the last 24 hours are kept, which is what makes the quota reachable.
    while (rec.versions.length >= this.opts.maxVersionsPerSecret) {
      const idx = rec.versions.findIndex((v) => v.stages.length === 0 && v.createdDate.getTime() < cutoff);
      if (idx < 0) break;
      rec.versions.splice(idx, 1);
    }
    if (rec.versions.length >= this.opts.maxVersionsPerSecret) {
      throw new AwsJsonError(
        'LimitExceededException',
        'You have exceeded the maximum number of versions for this secret. Versions created in the last 24 hours count toward the quota.',
      );
    }
  }

  private rotationView(rec: SecretRecord): Record<string, unknown> {
    return {
      RotationEnabled: rec.rotationEnabled,
      RotationLambdaARN: rec.rotationLambdaArn,
      RotationRules: rec.rotationRules ? { ...rec.rotationRules } : undefined,
      LastRotatedDate: epoch(rec.lastRotatedDate),
      NextRotationDate: epoch(nextRotation(rec)),
    };
  }
}

function stagesMap(rec: SecretRecord): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of rec.versions) if (v.stages.length > 0) out[v.versionId] = [...v.stages];
  return out;
}

function sameValue(v: SecretVersion, value: { secretString: string } | { secretBinary: string }): boolean {
  return 'secretString' in value
    ? v.secretString === value.secretString
    : v.secretBinary === value.secretBinary;
}

function checkStage(value: unknown, required = false): string {
  if (value === undefined && required)
    throw invalidParameter('Missing required parameter in input: "VersionStage"');
  if (typeof value !== 'string' || value.length < 1 || value.length > 256)
    throw invalidParameter('A staging label must be a string of 1 to 256 characters.');
  return value;
}

function dedupeTags(tags: Tag[]): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const t of tags) byKey.set(t.Key, t);
  return [...byKey.values()];
}

function parseRotationRules(value: unknown): RotationRules {
  if (typeof value !== 'object' || value === null)
    throw invalidParameter('RotationRules must be a structure.');
  const r = value as Req;
  const days = optInt(r, 'AutomaticallyAfterDays', 1, 1000);
  const schedule = optString(r, 'ScheduleExpression', 1, 256);
  const duration = optString(r, 'Duration', 2, 3);
  if (days !== undefined && schedule !== undefined) {
    throw invalidParameter('You cannot specify both rotation frequency and schedule expression together.');
  }
  if (schedule !== undefined) {
    const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(schedule);
    if (!rate && !/^cron\(.+\)$/.test(schedule))
      throw invalidParameter('Invalid ScheduleExpression: use a rate() or cron() expression.');
    if (rate && rate[2]?.startsWith('hour') && Number(rate[1]) < 4)
      throw invalidParameter('The rotation interval must be at least 4 hours.');
  }
  if (duration !== undefined && !/^[0-9]+h$/.test(duration))
    throw invalidParameter('Invalid Duration: use a number of hours such as 3h.');
  return compact({ AutomaticallyAfterDays: days, Duration: duration, ScheduleExpression: schedule });
}

function nextRotation(rec: SecretRecord): Date | undefined {
  if (!rec.rotationEnabled || !rec.rotationRules) return undefined;
  const base = (rec.lastRotatedDate ?? rec.createdDate).getTime();
  const { AutomaticallyAfterDays: days, ScheduleExpression: expr } = rec.rotationRules;
  if (days !== undefined) return startOfDay(new Date(base + days * DAY_MS));
  const rate = expr ? /^rate\((\d+) (hours?|days?)\)$/.exec(expr) : null;
  if (!rate) return undefined;
  const n = Number(rate[1]);
  return new Date(base + (rate[2]?.startsWith('hour') ? n * 3_600_000 : n * DAY_MS));
}

/** AWS reports access dates rounded down to the day. */
function startOfDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

const sortKeys: Record<string, (s: SecretRecord) => string | number> = {
  'created-date': (s) => s.createdDate.getTime(),
  'last-accessed-date': (s) => s.lastAccessedDate?.getTime() ?? 0,
  'last-changed-date': (s) => s.lastChangedDate.getTime(),
  name: (s) => s.name,
};

function compareBy(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeToken(op: string, offset: number): string {
  return Buffer.from(JSON.stringify({ op, offset })).toString('base64url');
}

function decodeToken(token: string | undefined, op: string): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      op?: unknown;
      offset?: unknown;
    };
    if (
      parsed.op === op &&
      typeof parsed.offset === 'number' &&
      Number.isInteger(parsed.offset) &&
      parsed.offset >= 0
    )
      return parsed.offset;
  } catch {
    // fall through to the protocol's error
  }
  throw new AwsJsonError('InvalidNextTokenException', messages.invalidNextToken);
}
