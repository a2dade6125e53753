/**
 * Alertmanager's label-matcher semantics, evaluated locally so that a silence can be previewed
 * before it exists: `=`, `!=`, `=~`, `!~`; regexes are anchored at both ends (RE2 syntax, the
 * common subset of which JavaScript shares); a missing label has the value "".
 */
import type { Matcher } from './types.js';

export type MatcherOp = '=' | '!=' | '=~' | '!~';

export class InvalidMatcherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMatcherError';
  }
}

export function matcherOp(m: Matcher): MatcherOp {
  const eq = m.isEqual ?? true;
  if (m.isRegex) return eq ? '=~' : '!~';
  return eq ? '=' : '!=';
}

/** Compiles a matcher into a predicate over a label set. Throws InvalidMatcherError for a bad regex. */
export function compileMatcher(m: Matcher): (labels: Record<string, string>) => boolean {
  const eq = m.isEqual ?? true;
  if (!m.isRegex) return (labels) => ((labels[m.name] ?? '') === m.value) === eq;
  const re = compileAnchored(m.value);
  return (labels) => re.test(labels[m.name] ?? '') === eq;
}

/** Whether every matcher selects the label set (an empty list selects everything). */
export function matchesAll(matchers: Matcher[], labels: Record<string, string>): boolean {
  const predicates = matchers.map(compileMatcher);
  return predicates.every((p) => p(labels));
}

/** Renders a matcher in Alertmanager's filter syntax: name, operator, quoted value. */
export function formatMatcher(m: Matcher): string {
  const quoted = '"' + m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
  return `${m.name}${matcherOp(m)}${quoted}`;
}

/** Parses `name="value"`, `name!=value`, `name=~"re"` or `name!~re`. */
export function parseMatcher(text: string): Matcher {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s.exec(text);
  if (!m)
    throw new InvalidMatcherError(
      `not a label matcher: ${JSON.stringify(text)} (expected name="value", name!="value", name=~"regex" or name!~"regex")`,
    );
  const [, name, op, rawValue] = m as unknown as [string, string, MatcherOp, string];
  let value = rawValue;
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2)
      throw new InvalidMatcherError(`unterminated quoted value in ${JSON.stringify(text)}`);
    value = value.slice(1, -1).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  const matcher: Matcher = {
    name,
    value,
    isRegex: op === '=~' || op === '!~',
    isEqual: op === '=' || op === '=~',
  };
  if (matcher.isRegex) compileAnchored(value);
  return matcher;
}

/**
 * Compiles an RE2-style pattern anchored as Alertmanager does (`^(?:...)$`). Leading inline
 * flags `(?i)`/`(?s)` become JavaScript flags; lookarounds and backreferences, which RE2 lacks,
 * are refused so that day2 never accepts a pattern Alertmanager would reject.
 */
export function compileAnchored(pattern: string): RegExp {
  let body = pattern;
  let flags = '';
  const inline = /^\(\?([is]+)\)/.exec(body);
  if (inline) {
    flags = [...new Set(inline[1])].join('');
    body = body.slice(inline[0].length);
  }
  if (hasNonRe2Syntax(body))
    throw new InvalidMatcherError(
      `unsupported regular expression ${JSON.stringify(pattern)}: lookarounds and backreferences are not RE2`,
    );
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch (err) {
    throw new InvalidMatcherError(
      `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`,
    );
  }
}

/** Finds lookarounds and backreferences outside character classes, honouring escapes. */
function hasNonRe2Syntax(pattern: string): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && (/[1-9]/.test(next) || next === 'k')) return true;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && /^\?(<?[=!])/.test(pattern.slice(i + 1, i + 5))) return true;
  }
  return false;
}
