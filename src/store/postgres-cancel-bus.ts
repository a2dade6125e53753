import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import pg from 'pg';
import type { Logger } from '../core/log.js';
import { encodeCancellation, parseCancellation, type CancelBus, type Cancellation } from './cancel-bus.js';

/** The NOTIFY channel; payloads name their schema, so one channel serves every day2 in a database. */
export const CANCEL_CHANNEL = 'day2_cancel';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

export interface PostgresCancelBusOptions {
  /** The store's connection string, for the listening connection. */
  url: string;
  /** The store's schema: only replicas of the same store hear each other. */
  schema: string;
  /** Sends the NOTIFY: the store's pool, so that publishing never waits for the listener. */
  publisher: Pick<pg.Pool, 'query'>;
  log: Logger;
  /** How long the listener waits for a connection; default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * The cancel bus of a PostgreSQL store: LISTEN on one dedicated connection per process, NOTIFY
 * through the store's pool. The listener connects in the background: if it cannot, or loses its
 * connection, it logs a warning and tries again with backoff, and meanwhile cancellations still
 * reach the calls of the replica they are sent to. It never keeps the process alive on its own.
 */
export class PostgresCancelBus implements CancelBus {
  /** This process's id in what it publishes; it ignores notifications that carry it. */
  readonly replica = randomUUID();
  readonly ready: Promise<void>;
  private readonly handlers = new Set<(c: Cancellation) => void>();
  private listener: pg.Client | undefined;
  private attempting: Promise<void>;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  /** Set while the listener is down after a failure, so that its return is logged. */
  private failing = false;
  private closed = false;

  constructor(private readonly opts: PostgresCancelBusOptions) {
    this.attempting = this.listen();
    this.ready = this.attempting;
  }

  async publish(principal: string, requestId: string | number): Promise<void> {
    if (this.closed) return;
    const payload = encodeCancellation({
      replica: this.replica,
      schema: this.opts.schema,
      principal,
      requestId,
    });
    if (payload === undefined) {
      this.opts.log.warn('cancellation not sent to other replicas: its request id is too long', {
        principal,
      });
      return;
    }
    try {
      await this.opts.publisher.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, payload]);
    } catch (err) {
      this.opts.log.warn('could not send a cancellation to the other replicas', {
        principal,
        request_id: requestId,
        error: err,
      });
    }
  }

  subscribe(handler: (c: Cancellation) => void): () => void {
    this.handlers.add(handler);
    return () => void this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retry);
    this.handlers.clear();
    const client = this.listener;
    this.listener = undefined;
    // An attempt under way sees `closed` and ends its own connection.
    await Promise.all([client?.end().catch(() => undefined), this.attempting]);
  }

  /** One attempt to connect and LISTEN; schedules the next on failure. Never rejects. */
  private async listen(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.opts.url,
      application_name: `day2 cancel listener ${this.replica}`,
      connectionTimeoutMillis: this.opts.connectTimeoutMs ?? 10_000,
      // A peer that vanished without closing the connection is noticed, not waited on forever.
      keepAlive: true,
    });
    client.on('notification', (n) => this.receive(n));
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CANCEL_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (this.closed) return;
      const delay = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
      this.failing = true;
      this.opts.log.warn(
        'cannot listen for cancellations from other replicas; cancellations sent to another replica do not reach calls here until this works',
        { error: err, retry_in_ms: delay },
      );
      this.schedule(delay);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    // pg's Client#unref is untyped; the socket is what would hold the event loop. Serving keeps the
    // process alive, listening alone must not.
    (client.connection.stream as Socket).unref();
    this.listener = client;
    this.retryMs = FIRST_RETRY_MS;
    if (this.failing) this.opts.log.info('listening for cancellations from other replicas again');
    this.failing = false;
  }

  /** The listening connection failed or ended: reconnect at once (backoff starts if that fails). */
  private lost(client: pg.Client, err?: Error): void {
    if (this.listener !== client) return; // still connecting (listen handles it), or already handled
    this.listener = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.failing = true;
    this.opts.log.warn(
      'lost the connection that listens for cancellations from other replicas; reconnecting',
      {
        error: err,
      },
    );
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.attempting = this.listen();
    }, delayMs);
    this.retry.unref();
  }

  private receive(n: pg.Notification): void {
    const m = parseCancellation(n.payload);
    if (!m) {
      this.opts.log.warn('ignored a message on the cancellation channel that is not a cancellation', {
        channel: n.channel,
        bytes: Buffer.byteLength(n.payload ?? ''),
      });
      return;
    }
    if (m.schema !== this.opts.schema || m.replica === this.replica) return;
    for (const handler of this.handlers) {
      try {
        handler({ principal: m.principal, requestId: m.requestId });
      } catch (err) {
        this.opts.log.error('delivering a cancellation from another replica failed', { error: err });
      }
    }
  }
}
