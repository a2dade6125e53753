export { createDatadogProvider } from './datadog-provider.js';
export type * from './types.js';
