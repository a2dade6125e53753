import { compileMatcher, formatMatcher } from '../../providers/alertmanager/matchers.js';
import type { Matcher } from '../../providers/alertmanager/types.js';

// Values a narrowing matcher must reject at least one of. `.+`, `.*` and friends accept them all.
const PROBES = ['x', 'zz-day2-probe-91c', '0', 'Q'];

/** Whether a matcher, on its own, selects only some alerts (a positive, specific match). */
export function narrows(m: Matcher): boolean {
  if (m.isEqual === false) return false; // `!=` and `!~` exclude a few, keeping nearly everything
  if (!m.isRegex) return m.value !== '';
  const test = compileMatcher(m);
  if (test({})) return false; // matches alerts without the label at all
  return PROBES.some((p) => !test({ [m.name]: p }));
}

/**
 * Why a matcher set is too broad to silence with, or undefined when it is fine: it must contain at
 * least one positive matcher that selects specific values (`alertname="X"`, `service=~"a|b"`).
 */
export function tooBroad(matchers: Matcher[]): string | undefined {
  if (matchers.length === 0)
    return 'a silence needs at least one matcher; an empty set would silence every alert';
  if (!matchers.some(narrows))
    return `the matchers ${matchers.map(formatMatcher).join(', ')} match every alert: add one that names specific values, such as alertname="CheckoutHighErrorRate" or service="checkout"`;
  return undefined;
}

/** The label Alertmanager alerts carry their environment in, as day2's alert views read it. */
export const ENV_LABEL = 'env';

/** What a silence or downtime covers after environment scoping, or why it may not be made. */
export interface EnvScope<T> {
  value: T;
  /** One line for the plan: which environments it covers and whether day2 added the scope. */
  covers: string;
  refusal?: string;
}

const WIDEN = 'pass all_environments: true to widen it on purpose (the plan then shows it)';

/**
 * A silence's matchers scoped to `env`: `env="<env>"` is added unless a matcher already pins that
 * value. A matcher on env that selects anything else is refused unless the call widens on purpose.
 */
export function envScopedMatchers(matchers: Matcher[], env: string, widen: boolean): EnvScope<Matcher[]> {
  if (widen) return { value: matchers, covers: 'every environment (all_environments: true)' };
  const onEnv = matchers.filter((m) => m.name === ENV_LABEL);
  const pinned = onEnv.some((m) => !m.isRegex && (m.isEqual ?? true) && m.value === env);
  if (pinned) return { value: matchers, covers: `${env} only` };
  if (onEnv.length > 0)
    return {
      value: matchers,
      covers: `${onEnv.map(formatMatcher).join(', ')}`,
      refusal: `matchers: ${onEnv.map(formatMatcher).join(', ')} selects environments other than ${env}; ${WIDEN}`,
    };
  const scoped = { name: ENV_LABEL, value: env, isRegex: false, isEqual: true };
  return { value: [...matchers, scoped], covers: `${env} only (day2 added ${formatMatcher(scoped)})` };
}

/**
 * A downtime's scope limited to the environment's tag (`env:prod`): added to a scope that lacks it;
 * a scope naming another value of the same tag key is refused unless the call widens on purpose.
 */
export function envScopedDowntime(
  scope: string | undefined,
  envTag: string,
  widen: boolean,
): EnvScope<string> {
  if (widen) return { value: scope ?? '*', covers: 'every environment (all_environments: true)' };
  if (scope === undefined) return { value: envTag, covers: `${envTag} only` };
  const terms = scope
    .split(/\s+AND\s+|,/)
    .map((t) => t.trim())
    .filter(Boolean);
  if (terms.includes(envTag)) return { value: scope, covers: `${envTag} only` };
  const key = `${envTag.split(':')[0]}:`;
  const other = terms.filter((t) => t === '*' || t.startsWith(key));
  if (other.length > 0)
    return {
      value: scope,
      covers: scope,
      refusal: `scope: ${other.join(', ')} reaches beyond ${envTag}; ${WIDEN}`,
    };
  const scoped = [...terms, envTag].join(' AND ');
  return { value: scoped, covers: `${envTag} only (day2 added ${envTag} to the scope)` };
}
