import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../core/log.js';
import type { Metrics } from './metrics.js';

/** How often, at most, a refused connection is logged (one line per quiet spell, with a count). */
const LOG_EVERY_MS = 10_000;

/**
 * Caps the sockets one remote address, and all addresses together, may hold open on the HTTP
 * server. Counted on 'connection' and released on the socket's 'close', so a connection that
 * idles, trickles its headers or never sends a byte holds its slot until the server's timeouts
 * end it. A connection over a cap is closed at once, before a byte of it is read.
 */
export class ConnectionCap {
  private readonly perAddress = new Map<string, number>();
  private total = 0;
  private refusedSinceLog = 0;
  private lastLog = 0;
  constructor(
    private readonly limits: { perAddress: number; total: number },
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  private admit(socket: Socket): void {
    // A socket that has already gone has no address; it holds nothing either.
    const address = socket.remoteAddress;
    if (address === undefined) return void socket.destroy();
    const held = this.perAddress.get(address) ?? 0;
    if (held >= this.limits.perAddress || this.total >= this.limits.total) {
      this.refuse(
        address,
        held >= this.limits.perAddress ? 'max_connections_per_address' : 'max_connections',
      );
      return void socket.destroy();
    }
    this.perAddress.set(address, held + 1);
    this.total += 1;
    socket.once('close', () => {
      this.total -= 1;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      // Entries go with their last connection, so the map is as large as the open addresses.
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
  }

  private refuse(address: string, limit: 'max_connections_per_address' | 'max_connections'): void {
    this.metrics.connectionRefused(limit);
    this.refusedSinceLog += 1;
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.log.warn('http connection refused: a connection cap is reached', {
      address,
      limit: `http.${limit}`,
      refused: this.refusedSinceLog,
    });
    this.lastLog = now;
    this.refusedSinceLog = 0;
  }
}
