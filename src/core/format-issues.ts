import type { z } from 'zod';

/**
 * One line per problem: `<where>: <path>: <what was expected>`. Used for config files, fleet
 * files, policy files and tool input, so every bad field is named the same way.
 */
export function formatZodIssues(error: z.ZodError, where?: string): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const prefix = [where, path || '(top level)'].filter(Boolean).join(': ');
    return `${prefix}: ${describeIssue(issue)}`;
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}${issue.input === undefined ? ' (the field is missing)' : `, got ${typeName(issue.input)}`}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
