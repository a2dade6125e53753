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
