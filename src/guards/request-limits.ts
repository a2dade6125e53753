import { z } from 'zod';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { formatZodIssues } from '../core/format-issues.js';
import { checkInputLimits, type LimitBreach } from './input-limits.js';

/**
 * The request schema to register a handler with, so that the SDK checks only the method and
 * leaves the params to `admitRequest`: the input limits must be checked before any schema,
 * handler or store looks at what the model sent.
 */
export function unparsedParams<M extends string>(schema: { shape: { method: z.ZodLiteral<M> } }) {
  return z.object({ method: schema.shape.method, params: z.unknown() });
}

/**
 * The request, checked against the input limits (as tool arguments are) and then parsed with its
 * schema. A request over a limit calls `refused` (to audit it) and is answered InvalidParams
 * naming the limit; a request its schema rejects is answered InvalidParams naming the field.
 */
export function admitRequest<S extends z.ZodType>(
  schema: S,
  raw: { method: string; params?: unknown },
  refused?: (breach: LimitBreach) => void,
): z.infer<S> {
  const breach = checkInputLimits(raw.params ?? {}, undefined, 'params');
  if (breach) {
    refused?.(breach);
    throw new McpError(ErrorCode.InvalidParams, `${raw.method}: ${breach.message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new McpError(ErrorCode.InvalidParams, formatZodIssues(parsed.error, raw.method).join('\n'));
  return parsed.data;
}
