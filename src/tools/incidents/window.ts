import { ToolError } from '../../contract/define-tool.js';
import { durationMs } from '../../contract/fields.js';

/**
 * The start of a look-back window: a duration back from `now` (`2h`) or an ISO time. Throws a
 * ToolError naming `field` otherwise, or when the time lies in the future.
 */
export function windowStart(since: string | undefined, now: Date, fallback: string, field = 'since'): string {
  const text = since ?? fallback;
  const ms = durationMs(text);
  if (ms !== undefined) return new Date(now.getTime() - ms).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new ToolError(
      `${field}: expected a duration such as 2h or 30m, or an ISO time; got "${text}"`,
      'invalid_input',
      field,
    );
  if (t > now.getTime()) throw new ToolError(`${field}: ${text} is in the future`, 'invalid_input', field);
  return new Date(t).toISOString();
}
