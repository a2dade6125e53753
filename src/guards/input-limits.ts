/**
 * Limits on what a model may send: how deep arguments nest, how many members one array or object
 * has, and how many bytes of JSON they take. Checked before anything else looks at the input
 * (schema validation, redaction, the audit log), without recursion, so that no input can exhaust
 * the stack or the memory of a path that every other session shares.
 */
export interface InputLimits {
  /** Levels of nesting, the arguments object itself being level 1. */
  maxDepth: number;
  /** Members of one array or object. */
  maxMembers: number;
  /** Bytes of the input as JSON (UTF-8). */
  maxBytes: number;
}

export const INPUT_LIMITS: InputLimits = { maxDepth: 32, maxMembers: 10_000, maxBytes: 256 * 1024 };

/** Which limit an input broke, where, and a sentence that names the field and the limit. */
export interface LimitBreach {
  limit: 'max_depth' | 'max_members' | 'max_bytes';
  allowed: number;
  /** The top-level field the breach is in; undefined when it is the input as a whole. */
  field?: string;
  message: string;
}

/**
 * The first limit `value` breaks, or undefined when it is within all of them. `whole` names the
 * input in a message about all of it (a tool's arguments, a request's params).
 */
export function checkInputLimits(
  value: unknown,
  limits: InputLimits = INPUT_LIMITS,
  whole = 'arguments',
): LimitBreach | undefined {
  let bytes = 0;
  // Depth-first with an explicit stack: [value, depth, top-level field].
  const stack: [unknown, number, string | undefined][] = [[value, 1, undefined]];
  while (stack.length > 0) {
    const [v, depth, field] = stack.pop()!;
    if (typeof v === 'string') bytes += Buffer.byteLength(v, 'utf8') + 2;
    else if (v === null || typeof v !== 'object') bytes += String(v).length;
    else {
      if (depth > limits.maxDepth)
        return breach(
          whole,
          'max_depth',
          limits.maxDepth,
          field,
          `nested more than ${limits.maxDepth} levels deep`,
        );
      const isArray = Array.isArray(v);
      const size = isArray ? v.length : Object.keys(v).length;
      if (size > limits.maxMembers)
        return breach(
          whole,
          'max_members',
          limits.maxMembers,
          field,
          `${size} members, more than ${limits.maxMembers} in one ${isArray ? 'array' : 'object'}`,
        );
      bytes += 2 + Math.max(0, size - 1);
      const entries: [string, unknown][] = isArray ? v.map((x, i) => [String(i), x]) : Object.entries(v);
      for (const [k, x] of entries) {
        if (!isArray) bytes += Buffer.byteLength(k, 'utf8') + 3;
        stack.push([x, depth + 1, field ?? (depth === 1 ? k : undefined)]);
      }
    }
    if (bytes > limits.maxBytes)
      return breach(
        whole,
        'max_bytes',
        limits.maxBytes,
        undefined,
        `larger than ${formatBytes(limits.maxBytes)} of JSON`,
      );
  }
  return undefined;
}

function breach(
  whole: string,
  limit: LimitBreach['limit'],
  allowed: number,
  field: string | undefined,
  what: string,
): LimitBreach {
  // The field name is the model's own text: shown, but never at length.
  const subject = field === undefined ? whole : field.length > 64 ? `${field.slice(0, 64)}…` : field;
  const cap =
    limit === 'max_depth'
      ? `${allowed} levels of nesting`
      : limit === 'max_members'
        ? `${allowed} members in one array or object`
        : `${formatBytes(allowed)} of JSON`;
  return { limit, allowed, field, message: `${subject}: ${what}; day2 accepts at most ${cap} (${limit}).` };
}

function formatBytes(n: number): string {
  return n % 1024 === 0 ? `${n / 1024} KB` : `${n} bytes`;
}
