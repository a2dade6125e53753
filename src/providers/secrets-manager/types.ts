/** Secrets Manager in day2's terms: metadata freely, values only inside rotation. */

export interface RotationRules {
  automaticallyAfterDays?: number;
  scheduleExpression?: string;
  duration?: string;
}

/** What day2 may show about a secret: never its value. */
export interface SecretMetadata {
  name: string;
  arn: string;
  description?: string;
  tags: Record<string, string>;
  createdDate?: Date;
  lastChangedDate?: Date;
  lastRotatedDate?: Date;
  lastAccessedDate?: Date;
  nextRotationDate?: Date;
  /** Set when the secret is scheduled for deletion. */
  deletedDate?: Date;
  rotationEnabled: boolean;
  rotationRules?: RotationRules;
  /** Version id → staging labels (AWSCURRENT, AWSPENDING, AWSPREVIOUS, custom). */
  versionStages: Record<string, string[]>;
}

/** A secret value, already registered with the redactor: it can never be printed. */
export interface SecretValue {
  versionId: string;
  versionStages: string[];
  /** SecretString, or SecretBinary as base64 when `binary` is true. */
  value: string;
  binary: boolean;
}

export interface RandomPasswordOptions {
  length?: number;
  excludeCharacters?: string;
  excludeNumbers?: boolean;
  excludePunctuation?: boolean;
  excludeUppercase?: boolean;
  excludeLowercase?: boolean;
  includeSpace?: boolean;
  requireEachIncludedType?: boolean;
}

/**
 * AWS Secrets Manager for one environment (region and name prefix). Calls outside the prefix are
 * refused; every call has a timeout; failures are BackendError.
 */
export interface SecretsManagerProvider {
  /** Metadata of the secrets whose names start with `prefix` (default: the configured prefix). */
  listSecrets(prefix?: string): Promise<SecretMetadata[]>;
  describeSecret(secretId: string): Promise<SecretMetadata>;
  /** For rotation only. The value is registered with the redactor before it is returned. */
  getSecretValue(
    secretId: string,
    opts?: { versionId?: string; versionStage?: string },
  ): Promise<SecretValue>;
  /** Stores `value` as a new version labelled AWSPENDING; idempotent for the same token and value. */
  createPendingVersion(
    secretId: string,
    value: string,
    clientRequestToken: string,
  ): Promise<{ versionId: string }>;
  /** Moves AWSCURRENT from `fromVersionId` to `versionId` (AWSPREVIOUS follows automatically). */
  moveCurrent(secretId: string, versionId: string, fromVersionId: string): Promise<void>;
  removeStage(secretId: string, stage: string, versionId: string): Promise<void>;
  /** A generated password, registered with the redactor. */
  getRandomPassword(opts?: RandomPasswordOptions): Promise<string>;
  tagResource(secretId: string, tags: Record<string, string>): Promise<void>;
}
