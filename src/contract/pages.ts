import { ToolError } from '../core/errors.js';
import { canonicalJson, sha256Hex } from '../core/canonical-json.js';
import { callText } from './answer-text.js';

/** Rows per page where a call gives no limit. */
export const DEFAULT_LIMIT = 20;

/** One page of a capped list: the rows shown, how many there are in all, and the cursor to the rest. */
export interface Page<T> {
  items: T[];
  total: number;
  /** Where the next page starts; absent on the last page. */
  next_cursor?: string;
}

/** A cursor that this tool did not give, or gave for other arguments: a tool error on the field `cursor`. */
export class CursorError extends ToolError {
  constructor(
    message = 'cursor: not a cursor this tool gave; pass the next_cursor of the previous page unchanged, or leave cursor out to start from the first page',
  ) {
    super(message, 'bad_cursor', 'cursor');
    this.name = 'CursorError';
  }
}

/**
 * The arguments a cursor is bound to: everything but the cursor itself and the page size. A page
 * asked for with other filters than the page before it would skip or repeat rows without a word.
 */
function queryKey(args: Record<string, unknown>): string {
  const { cursor: _c, limit: _l, ...query } = args;
  return sha256Hex(canonicalJson(query)).slice(0, 12);
}

/**
 * An opaque cursor: where the next page starts (`position`, the tool's own), bound to the query
 * that produced it. Base64url of JSON, so it survives any transport and any copy by a model.
 */
export function encodeCursor(
  position: Record<string, string | number>,
  args: Record<string, unknown>,
): string {
  return Buffer.from(JSON.stringify({ ...position, q: queryKey(args) })).toString('base64url');
}

/**
 * The position a cursor names, checked: it must decode, carry what `read` expects, and have been
 * given for the same arguments (bar cursor and limit). Anything else is a CursorError naming the
 * field and the way out.
 */
export function decodeCursor<P>(
  cursor: string,
  args: Record<string, unknown>,
  read: (position: Record<string, unknown>) => P | undefined,
): P {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError();
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CursorError();
  const position = raw as Record<string, unknown>;
  const at = read(position);
  if (at === undefined || typeof position.q !== 'string') throw new CursorError();
  if (position.q !== queryKey(args))
    throw new CursorError(
      'cursor: it was given for other arguments; repeat the call that returned it with only cursor (and limit) changed, or leave cursor out to start from the first page',
    );
  return at;
}

/**
 * A page of an in-memory list by offset: `args.limit` rows (default DEFAULT_LIMIT) from where
 * `args.cursor` says, with the total and the cursor to the rest. Stable for a stable ordering;
 * following next_cursor until it is absent yields every row exactly once.
 */
export function pageOf<T>(
  items: readonly T[],
  args: { limit?: number; cursor?: string } & Record<string, unknown>,
): Page<T> {
  const size = args.limit ?? DEFAULT_LIMIT;
  const offset = args.cursor ? decodeCursor(args.cursor, args, offsetOf) : 0;
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    total: items.length,
    ...(end < items.length ? { next_cursor: encodeCursor({ o: end }, args) } : {}),
  };
}

function offsetOf(position: Record<string, unknown>): number | undefined {
  const o = position.o;
  return typeof o === 'number' && Number.isSafeInteger(o) && o >= 0 ? o : undefined;
}

/**
 * A list as a resource holds it. Resources take no cursor, so one that lists is summarised instead:
 * its first `cap` rows under `key`, how many there are in all, and where it cut, the tool call
 * that pages through every row.
 */
export function capList<T>(
  key: string,
  items: readonly T[],
  cap: number,
  pagedBy?: { tool: string; args: Record<string, unknown> },
): Record<string, unknown> {
  const truncated = items.length > cap;
  return {
    [key]: items.slice(0, cap),
    total: items.length,
    truncated,
    ...(truncated && pagedBy
      ? {
          more: `${cap} of ${items.length} here; every one: ${callText(pagedBy.tool, pagedBy.args)} and its next_cursor`,
        }
      : {}),
  };
}
