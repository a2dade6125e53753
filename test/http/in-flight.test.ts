import { describe, expect, it } from 'vitest';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { InFlight } from '../../src/http/in-flight.js';
import { createLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';

function fakeTransport() {
  const got: JSONRPCMessage[] = [];
  let ended = 0;
  const transport = { onmessage: (m: JSONRPCMessage) => void got.push(m) } as unknown as Transport;
  return { transport, got, end: () => void ended++, ended: () => ended };
}

const call = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'x' } });
const cancel = (requestId: unknown) => ({
  jsonrpc: '2.0',
  method: 'notifications/cancelled',
  params: { requestId, reason: 'r' },
});

describe('InFlight', () => {
  it('delivers a cancellation to the request of the same principal and id, then ends its POST', () => {
    const f = new InFlight(createLogger({ redactor: new Redactor(), sink: () => {} }));
    const a = fakeTransport();
    f.track('alice', call(5), a.transport, a.end);
    f.deliverCancellations('bob', cancel(5)); // another principal: not reached
    f.deliverCancellations('alice', cancel('5')); // the string "5" is another id than 5
    f.deliverCancellations('alice', cancel(6));
    expect(a.got).toHaveLength(0);
    f.deliverCancellations('alice', cancel(5));
    expect(a.got).toEqual([cancel(5)]);
    expect(a.ended()).toBe(1);
  });

  it('forgets a request once answered, and drops an ambiguous cancellation with a warning', () => {
    const lines: string[] = [];
    const f = new InFlight(createLogger({ redactor: new Redactor(), sink: (l) => lines.push(l) }));
    const a = fakeTransport();
    const b = fakeTransport();
    const forgetA = f.track('alice', [call(1), call(2)], a.transport, a.end);
    f.track('alice', call(1), b.transport, b.end);
    expect(f.size).toBe(2);
    f.deliverCancellations('alice', cancel(1));
    expect(a.got.length + b.got.length).toBe(0);
    expect(lines.join('\n')).toContain('in flight more than once');
    forgetA();
    expect(f.size).toBe(1);
    f.deliverCancellations('alice', [cancel(1), cancel(2)]);
    expect(b.got).toHaveLength(1);
    expect(a.got).toHaveLength(0);
  });

  it('returns the ids it found nothing for, for the other replicas, but not ambiguous ones', () => {
    const f = new InFlight(createLogger({ redactor: new Redactor(), sink: () => {} }));
    const a = fakeTransport();
    const b = fakeTransport();
    f.track('alice', [call(1), call(2)], a.transport, a.end);
    f.track('alice', call(1), b.transport, b.end);
    expect(f.deliverCancellations('alice', [cancel(1), cancel(2), cancel(3), cancel('2')])).toEqual([3, '2']);
    expect(f.deliverCancellations('bob', cancel(2))).toEqual([2]);
    expect(f.deliverCancellations('alice', [cancel(undefined), { method: 'tools/list', id: 4 }])).toEqual([]);
  });

  it('tracks nothing for notifications and ignores malformed cancellations', () => {
    const f = new InFlight(createLogger({ redactor: new Redactor(), sink: () => {} }));
    const a = fakeTransport();
    f.track('alice', { jsonrpc: '2.0', method: 'notifications/initialized' }, a.transport, a.end);
    f.track('alice', null, a.transport, a.end);
    expect(f.size).toBe(0);
    f.track('alice', call(3), a.transport, a.end);
    for (const bad of [cancel(undefined), cancel({ id: 3 }), { method: 'notifications/cancelled' }, 'x'])
      f.deliverCancellations('alice', bad);
    expect(a.got).toHaveLength(0);
  });
});
