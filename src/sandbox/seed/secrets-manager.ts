import { createHash, randomUUID } from 'node:crypto';
import type { Fleet, FleetAwsSecret } from '../fleet-schema.js';
import type { SeedSecret } from '../secrets-manager/index.js';
import type { SecretsManagerEmulator } from '../secrets-manager/index.js';
import type { SecretsManagerProvider } from '../../providers/secrets-manager/types.js';

/**
 * Fleet → Secrets Manager. Secrets are created as they were at `created`; those the fleet says
 * were rotated since get a second version at `last_rotated` that becomes AWSCURRENT (the first
 * becomes AWSPREVIOUS), and those it says were read get a GetSecretValue at `last_accessed`. The
 * history is written through the official client while the emulator's clock is held at those
 * times, so every date (CreatedDate, LastRotatedDate, LastChangedDate, LastAccessedDate, version
 * CreatedDate) reads as the fleet says.
 */

/** The fleet's value as SecretString. */
export function secretString(s: FleetAwsSecret): string {
  return typeof s.value === 'string' ? s.value : JSON.stringify(s.value);
}

const SENSITIVE = /pass|secret|token|key/i;

/** A stand-in for the value before the last rotation: same shape, other credentials. */
export function previousSecretString(s: FleetAwsSecret): string {
  const fake = (k: string) =>
    `sbx-prev-${createHash('sha256').update(`${s.name}/${k}`).digest('base64url').slice(0, 20)}`;
  if (typeof s.value === 'string') return fake('value');
  const prev: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(s.value))
    prev[k] = SENSITIVE.test(k) && typeof v === 'string' ? fake(k) : v;
  return JSON.stringify(prev);
}

function rotated(s: FleetAwsSecret): boolean {
  return s.last_rotated.getTime() > s.created.getTime();
}

/** The seed of one secret: its state at creation. */
export function secretSeed(s: FleetAwsSecret): SeedSecret {
  return {
    name: s.name,
    value: rotated(s) ? previousSecretString(s) : secretString(s),
    ...(s.description !== undefined ? { description: s.description } : {}),
    tags: { ...s.tags },
    createdDate: s.created,
    ...(rotated(s) ? {} : { lastRotatedDate: s.last_rotated }),
    rotationEnabled: s.rotation.enabled,
    ...(s.rotation.automatically_after_days !== undefined
      ? { rotationRules: { AutomaticallyAfterDays: s.rotation.automatically_after_days } }
      : {}),
    ...(s.rotation.lambda_arn !== undefined ? { rotationLambdaArn: s.rotation.lambda_arn } : {}),
  };
}

/** A clock the seeding can hold at a past time; it follows `base` otherwise. */
export class SeedingClock {
  private held?: Date;
  constructor(private readonly base: { now(): Date }) {}
  now(): Date {
    return this.held ? new Date(this.held) : this.base.now();
  }
  async at<T>(t: Date, fn: () => Promise<T>): Promise<T> {
    this.held = t;
    try {
      return await fn();
    } finally {
      this.held = undefined;
    }
  }
}

/**
 * Seeds every fleet secret into the emulator. `client(region)` is a provider over the emulator
 * (the official SDK client); `clock` is the emulator's clock.
 */
export async function seedSecrets(
  fleet: Fleet,
  emulator: SecretsManagerEmulator,
  clock: SeedingClock,
  client: () => SecretsManagerProvider,
): Promise<number> {
  let count = 0;
  for (const env of Object.values(fleet.environments)) {
    for (const s of env.secrets.aws) {
      emulator.addSecret(secretSeed(s));
      count++;
      if (!rotated(s) && s.last_accessed === undefined) continue;
      const sm = client();
      if (rotated(s)) {
        const previous = emulator
          .secret(s.name)
          ?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.versionId;
        await clock.at(s.last_rotated, async () => {
          const { versionId } = await sm.createPendingVersion(s.name, secretString(s), randomUUID());
          if (previous) await sm.moveCurrent(s.name, versionId, previous);
          await sm.removeStage(s.name, 'AWSPENDING', versionId);
        });
      }
      if (s.last_accessed !== undefined) {
        const at = s.last_accessed;
        await clock.at(at, () => sm.getSecretValue(s.name));
      }
    }
  }
  return count;
}
