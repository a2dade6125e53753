import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tcpConnect, type Socket } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServeHandle } from '../../src/cli/serve.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { serveHttp } from '../fixtures/serve-http.js';

/** The attacker's address: another loopback address than the honest client's 127.0.0.1. */
const ATTACKER = '127.0.0.2';
const HEADERS_TIMEOUT_MS = 1000;
const PER_ADDRESS = 40;
const SLOW_SOCKETS = 60;

interface Slow {
  socket: Socket;
  /** Bytes the server sent back (a 408 when its timeout ends the connection). */
  received: string;
  closedAt?: number;
  connected: boolean;
}

/**
 * A slowloris connection from localAddress: a request line and then one header byte every 200 ms,
 * never the blank line that ends the head. It stops trickling when the server closes it.
 */
function slowConnection(port: number, localAddress = ATTACKER, keepAlive = false): Promise<Slow> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port, localAddress });
    const slow: Slow = { socket, received: '', connected: false };
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (slow.received += d));
    socket.on('error', () => undefined); // a reset is how a refused connection ends
    socket.on('close', () => {
      slow.closedAt = performance.now();
      clearInterval(timer);
      resolve(slow);
    });
    socket.on('connect', () => {
      slow.connected = true;
      if (keepAlive) {
        // A whole request, then an idle keep-alive connection: it holds its slot, unhurried.
        socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
        socket.once('data', () => resolve(slow));
        return;
      }
      socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      timer = setInterval(() => socket.write('a'), 200);
      resolve(slow);
    });
  });
}

/** Whether the server still holds the socket: closed by the server, or still open. */
function stillOpen(s: Slow): boolean {
  return s.closedAt === undefined;
}

async function settle(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** A whole GET /healthz from the given local address, on a fresh connection: its status code. */
function healthFrom(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port, localAddress });
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    socket.on('connect', () =>
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`),
    );
  });
}

describe('slow clients on serve --http (slowloris)', () => {
  let t: TestEnv;
  let h: ServeHandle;
  let port: number;

  beforeAll(async () => {
    t = makeTestEnv({
      http: {
        headers_timeout: HEADERS_TIMEOUT_MS,
        request_timeout: 2000,
        max_connections_per_address: PER_ADDRESS,
        max_connections: 200,
      },
    });
    h = await serveHttp(t, { DAY2_PRINCIPAL: 'agent-slow' });
    port = Number(new URL(h.url!).port);
  });
  afterAll(async () => {
    await h?.close();
    t?.cleanup();
  });

  it('refuses connections over the per-address cap, answers others, and closes trickling heads in time', async () => {
    const started = performance.now();
    const slow = await Promise.all(Array.from({ length: SLOW_SOCKETS }, () => slowConnection(port)));
    // Over the cap: closed at once, before the server reads or answers anything. The others are
    // open, or already ended by the header timeout with a 408 when this machine is slow.
    const refused = () => slow.filter((s) => !stillOpen(s) && s.received === '');
    const waitUntil = started + 5000;
    while (refused().length < SLOW_SOCKETS - PER_ADDRESS && performance.now() < waitUntil) await settle(50);
    expect(refused()).toHaveLength(SLOW_SOCKETS - PER_ADDRESS);
    expect(slow.filter((s) => stillOpen(s) || s.received.startsWith('HTTP/1.1 408'))).toHaveLength(
      PER_ADDRESS,
    );

    // The attacker's sockets take nothing from another address: a real MCP client gets answers.
    const client = new Client({ name: 'honest', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(h.url!)));
    const res = (await client.callTool({ name: 'search_audit', arguments: { limit: 1 } })) as CallToolResult;
    expect(res.isError).toBeFalsy();
    await client.close();

    // Every trickling head is ended by the server within the header timeout (checked each second).
    const deadline = started + HEADERS_TIMEOUT_MS + 1000 + 5000; // slack for a loaded machine
    while (slow.some(stillOpen) && performance.now() < deadline) await settle(100);
    expect(slow.filter(stillOpen)).toHaveLength(0);
    const admitted = slow.filter((s) => s.received !== '');
    expect(admitted).toHaveLength(PER_ADDRESS);
    for (const s of admitted) expect(s.received).toMatch(/^HTTP\/1\.1 408 /);

    // The slots are given back on close: the same address is served again.
    expect(await healthFrom(port, ATTACKER)).toBe(200);
  });

  it('refuses connections over the total cap from many addresses', async () => {
    // 200 in all (less the honest client's keep-alive sockets, if still open): 5 addresses × 40
    // idle keep-alive connections fill it, and the next connection, from a sixth, is refused.
    const held: Slow[] = [];
    for (let a = 10; a < 15; a++)
      for (let i = 0; i < PER_ADDRESS; i++) held.push(await slowConnection(port, `127.0.0.${a}`, true));
    await settle(200);
    const open = held.filter(stillOpen).length;
    expect(open).toBeGreaterThan(190);
    expect(open).toBeLessThanOrEqual(200);
    const extra = await slowConnection(port, '127.0.0.20');
    await settle(200);
    expect(stillOpen(extra)).toBe(false);
    expect(extra.received).toBe('');
    for (const s of held) s.socket.destroy();
  });
});
