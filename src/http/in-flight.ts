import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../core/log.js';

interface Entry {
  transport: Transport;
  /** Ends the POST that carried the request: a cancelled request gets no answer (the spec says so). */
  end: () => void;
}

/**
 * The requests this process is answering over stateless HTTP, so that a `notifications/cancelled`
 * — which a client sends as a POST of its own — reaches the handler of the request it names. Each
 * POST gets its own MCP server; without this, the cancellation would land on a fresh server that
 * never saw the request.
 *
 * Request ids are chosen by clients, so a cancellation is matched on the principal too (nobody
 * can cancel another principal's call), and one that names an id two of the principal's clients
 * have in flight at once is dropped rather than guessed at. A cancellation that names nothing in
 * flight here is returned to the caller, which hands it to the other replicas (CancelBus); each
 * of them delivers it through deliverCancellations under the same rules. Ambiguity is judged per
 * replica: the same id in flight once here and once elsewhere cancels the one here. A client that
 * hangs up cancels its own request wherever it runs.
 *
 * A cancelled request is never answered, so its POST is ended once the server has been told;
 * requests batched into the same POST (no longer part of the protocol since 2025-06-18) end with it.
 */
export class InFlight {
  private readonly byKey = new Map<string, Set<Entry>>();

  constructor(private readonly log: Logger) {}

  /** Records the requests in `body` as answered through `transport`; the returned function forgets them. */
  track(principal: string, body: unknown, transport: Transport, end: () => void): () => void {
    const keys = messages(body)
      .filter((m) => typeof m.method === 'string' && m.id !== undefined && m.id !== null)
      .map((m) => key(principal, m.id as RequestId));
    if (!keys.length) return () => undefined;
    const entry: Entry = { transport, end };
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(entry);
    }
    return () => {
      for (const k of keys) {
        const set = this.byKey.get(k);
        set?.delete(entry);
        if (set?.size === 0) this.byKey.delete(k);
      }
    };
  }

  /**
   * Hands each `notifications/cancelled` in `body` to the server answering that request. Returns
   * the request ids that are not in flight here: already answered, or on another replica.
   */
  deliverCancellations(principal: string, body: unknown): RequestId[] {
    const elsewhere: RequestId[] = [];
    for (const m of messages(body)) {
      if (m.method !== 'notifications/cancelled') continue;
      const requestId = (m.params as { requestId?: unknown } | undefined)?.requestId;
      if (typeof requestId !== 'string' && typeof requestId !== 'number') continue;
      const matches = this.byKey.get(key(principal, requestId));
      if (!matches?.size) {
        elsewhere.push(requestId);
        continue;
      }
      if (matches.size > 1) {
        this.log.warn('cancellation names a request id in flight more than once; not cancelled', {
          principal,
          request_id: requestId,
        });
        continue;
      }
      for (const { transport, end } of matches) {
        transport.onmessage?.(m as JSONRPCMessage);
        end();
      }
    }
    return elsewhere;
  }

  /** How many request ids are in flight. */
  get size(): number {
    return this.byKey.size;
  }
}

function key(principal: string, id: RequestId): string {
  return `${principal}\u0000${typeof id}:${String(id)}`;
}

function messages(body: unknown): { method?: unknown; id?: unknown; params?: unknown }[] {
  const list = Array.isArray(body) ? body : [body];
  return list.filter(
    (m): m is { method?: unknown; id?: unknown; params?: unknown } => m !== null && typeof m === 'object',
  );
}
