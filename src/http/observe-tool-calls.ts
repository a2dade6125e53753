import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { Metrics } from './metrics.js';

/**
 * Records every tools/call that passes through a connected transport: its tool, outcome and
 * duration. Call after `server.connect(transport)`, since it wraps the handlers the server set.
 */
export function observeToolCalls(transport: Transport, metrics: Metrics, known: ReadonlySet<string>): void {
  const pending = new Map<RequestId, { tool: string; started: number }>();
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (isJSONRPCRequest(message) && message.method === 'tools/call') {
      const name = (message.params as { name?: unknown } | undefined)?.name;
      // Unknown names are folded into one label so that clients cannot grow the metric set.
      pending.set(message.id, {
        tool: typeof name === 'string' && known.has(name) ? name : 'unknown',
        started: performance.now(),
      });
    }
    onmessage?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id;
      const call = id === undefined ? undefined : pending.get(id);
      if (call && id !== undefined) {
        pending.delete(id);
        const outcome = isJSONRPCErrorResponse(message)
          ? 'protocol_error'
          : message.result.isError
            ? 'error'
            : 'ok';
        metrics.toolCall(call.tool, outcome, (performance.now() - call.started) / 1000);
      }
    }
    return send(message, options);
  };
}
