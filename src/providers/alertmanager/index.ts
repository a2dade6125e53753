export { AlertmanagerHttpProvider, createAlertmanagerProvider } from './http-provider.js';
export type { AlertmanagerProviderOptions } from './http-provider.js';
export {
  compileAnchored,
  compileMatcher,
  formatMatcher,
  InvalidMatcherError,
  matcherOp,
  matchesAll,
  parseMatcher,
} from './matchers.js';
export type { MatcherOp } from './matchers.js';
export type {
  Alert,
  AlertmanagerProvider,
  AlertState,
  ListAlertsOptions,
  Matcher,
  NewSilence,
  PostableAlert,
  Silence,
} from './types.js';
