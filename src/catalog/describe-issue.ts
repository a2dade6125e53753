import type { z } from 'zod';
import type { Document, LineCounter } from 'yaml';
import { isNode } from 'yaml';

/** Renders a path as `a.b[3].c`, quoting keys that are not plain identifiers. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else {
      const key = String(p);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
  date: 'a date',
};

/** A short sentence for one zod issue, phrased for a person editing YAML. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const expected = ARTICLE[issue.expected] ?? issue.expected;
    if (/received undefined$/.test(issue.message)) return `required (expected ${expected})`;
    if (issue.message.startsWith('Invalid input')) return `expected ${expected}`;
    return issue.message;
  }
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_value') {
    if (issue.message.startsWith('Invalid'))
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    return issue.message;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
    const word = issue.code === 'too_small' ? 'at least' : 'at most';
    const unit = issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : '';
    return `expected ${word} ${String(bound)}${unit}`;
  }
  if (issue.code === 'invalid_union')
    return issue.message.startsWith('Invalid input')
      ? 'expected one of the allowed forms (see the schema)'
      : issue.message;
  if (issue.code === 'invalid_key') return issue.issues[0] ? describeIssue(issue.issues[0]) : 'invalid key';
  return issue.message;
}

/** `line N` of the YAML node at `path`, when the document still has it. */
export function lineOf(
  doc: Document.Parsed | Document,
  counter: LineCounter | undefined,
  path: readonly PropertyKey[],
): number | undefined {
  if (!counter) return undefined;
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}
