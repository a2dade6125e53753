export { startSecretsManagerEmulator } from './emulator.js';
export type {
  SecretsManagerEmulator,
  SecretsManagerEmulatorOptions,
  SecretsManagerExchange,
  SecretsManagerWrite,
} from './emulator.js';
export type { SecretRecord, SecretVersion, SeedSecret, RotationRules } from './secret-state.js';
