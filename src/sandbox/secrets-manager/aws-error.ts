/**
 * An error as the Secrets Manager JSON 1.1 protocol returns it: HTTP status plus a body
 * `{"__type": <code>, "Message": <text>}`. The SDK turns `__type` into the exception's `name`.
 */
export class AwsJsonError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status: number = 400,
  ) {
    super(message);
    this.name = type;
  }

  body(): Record<string, string> {
    return { __type: this.type, Message: this.message };
  }
}

/** The messages Secrets Manager uses, kept in one place so that tests and emulator agree. */
export const messages = {
  secretNotFound: "Secrets Manager can't find the specified secret.",
  stageNotFound: (stage: string) =>
    `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
  versionNotFound: (versionId: string) =>
    `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
  markedForDeletion: "You can't perform this operation on the secret because it was marked for deletion.",
  alreadyExists: (name: string) => `The operation failed because the secret ${name} already exists.`,
  scheduledForDeletion:
    "You can't create this secret because a secret with this name is already scheduled for deletion.",
  versionImmutable: "You can't modify an existing version, you can only create a new version.",
  removeFromRequired: (stage: string, versionId: string) =>
    `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
  rotationInProgress: "A previous rotation isn't complete. That rotation will be reattempted.",
  invalidNextToken: 'The NextToken value is invalid.',
} as const;

export const notFound = (): AwsJsonError =>
  new AwsJsonError('ResourceNotFoundException', messages.secretNotFound);
export const invalidParameter = (message: string): AwsJsonError =>
  new AwsJsonError('InvalidParameterException', message);
export const invalidRequest = (message: string): AwsJsonError =>
  new AwsJsonError('InvalidRequestException', message);
