export { AwsSecretsManagerProvider, createSecretsManagerProvider, translateError } from './aws-provider.js';
export type { SecretsManagerProviderOptions } from './aws-provider.js';
export type {
  RandomPasswordOptions,
  RotationRules,
  SecretMetadata,
  SecretsManagerProvider,
  SecretValue,
} from './types.js';
