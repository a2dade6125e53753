export {
  PostgresProvider,
  type DbRef,
  type DbEndpoint,
  type PostgresProviderOptions,
} from './postgres-provider.js';
export { PostgresError, translatePgError, type PostgresErrorKind } from './errors.js';
