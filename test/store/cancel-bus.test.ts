import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import {
  encodeCancellation,
  MAX_CANCEL_PAYLOAD_BYTES,
  parseCancellation,
  type CancelBus,
  type Cancellation,
} from '../../src/store/cancel-bus.js';
import { CANCEL_CHANNEL, PostgresCancelBus } from '../../src/store/postgres-cancel-bus.js';
import type { Store } from '../../src/store/store.js';
import { PG_URL, postgresBackend, sqliteBackend, type TestBackend } from './fixtures/backends.js';
import { waitFor } from '../fixtures/wait-for.js';

async function sql<R extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The backend pid of a bus's listening connection, once it has run LISTEN. */
async function listenerPid(bus: PostgresCancelBus): Promise<number | undefined> {
  const rows = await sql<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2`,
    [`day2 cancel listener ${bus.replica}`, `LISTEN ${CANCEL_CHANNEL}`],
  );
  return rows[0]?.pid;
}

function logSink() {
  const lines: string[] = [];
  return {
    log: createLogger({ redactor: new Redactor(), sink: (l) => lines.push(l), level: 'debug' }),
    text: () => lines.join('\n'),
  };
}

describe('cancellation payloads', () => {
  const m = { replica: 'r1', schema: 'day2', principal: 'alice', requestId: 7 };

  it('round-trips, keeping a string id apart from a number', () => {
    expect(parseCancellation(encodeCancellation(m))).toEqual(m);
    expect(parseCancellation(encodeCancellation({ ...m, requestId: '7' }))).toEqual({ ...m, requestId: '7' });
  });

  it('carries only ids', () => {
    expect(Object.keys(JSON.parse(encodeCancellation(m)!) as object).sort()).toEqual([
      'principal',
      'replica',
      'request_id',
      'schema',
      'v',
    ]);
  });

  it('refuses to encode what PostgreSQL would refuse to send', () => {
    expect(encodeCancellation({ ...m, requestId: 'x'.repeat(MAX_CANCEL_PAYLOAD_BYTES) })).toBeUndefined();
  });

  it('rejects junk', () => {
    const ok = JSON.parse(encodeCancellation(m)!) as Record<string, unknown>;
    for (const junk of [
      undefined,
      '',
      'cancel 7',
      '{"v":1',
      'null',
      '7',
      '[]',
      JSON.stringify([ok]),
      JSON.stringify({ ...ok, v: 2 }),
      JSON.stringify({ ...ok, principal: '' }),
      JSON.stringify({ ...ok, principal: 5 }),
      JSON.stringify({ ...ok, request_id: null }),
      JSON.stringify({ ...ok, request_id: { id: 7 } }),
      JSON.stringify({ ...ok, replica: undefined }),
      JSON.stringify({ ...ok, schema: 'x'.repeat(64) }),
    ])
      expect(parseCancellation(junk), String(junk)).toBeUndefined();
  });
});

describe('the SQLite store', () => {
  it('has no cancel bus: one process, no other replica', async () => {
    const backend = await sqliteBackend.create();
    const store = await backend.open();
    expect('openCancelBus' in store).toBe(false);
    await store.close();
    await backend.cleanup();
  });
});

describe('PostgresCancelBus', () => {
  let backend: TestBackend;
  const stores: Store[] = [];
  const buses: CancelBus[] = [];

  /** A "replica": its own store (pool) and bus over the same schema. */
  async function replica(b: TestBackend = backend, log = logSink().log) {
    const store = await b.open();
    stores.push(store);
    const bus = store.openCancelBus!(log) as PostgresCancelBus;
    buses.push(bus);
    const heard: Cancellation[] = [];
    bus.subscribe((c) => heard.push(c));
    await bus.ready;
    return { bus, heard };
  }

  beforeEach(async () => {
    backend = await postgresBackend.create();
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
    for (const store of stores.splice(0)) await store.close();
    await backend.cleanup();
  });

  it('delivers what one replica publishes to the others, never to the publisher', async () => {
    const a = await replica();
    const b = await replica();
    const c = await replica();
    await a.bus.publish('alice', 7);
    await a.bus.publish('alice', '7');
    await b.bus.publish('bob', 'req-1');
    // Notifications arrive in commit order: once A has B's, it would already have had its own.
    await waitFor(() => (a.heard.length ? true : undefined), 'A to hear B');
    expect(a.heard).toEqual([{ principal: 'bob', requestId: 'req-1' }]);
    await waitFor(() => (c.heard.length === 3 ? true : undefined), 'C to hear all three');
    expect(c.heard).toEqual([
      { principal: 'alice', requestId: 7 },
      { principal: 'alice', requestId: '7' },
      { principal: 'bob', requestId: 'req-1' },
    ]);
    // Each replica listens on its own connection: C having heard does not mean B has.
    await waitFor(() => (b.heard.length >= 2 ? true : undefined), 'B to hear A twice');
    expect(b.heard).toEqual([
      { principal: 'alice', requestId: 7 },
      { principal: 'alice', requestId: '7' },
    ]);
  });

  it('keeps stores in other schemas of the same database apart', async () => {
    const other = await postgresBackend.create();
    try {
      const a = await replica();
      const x = await replica(other);
      const y = await replica(other);
      await a.bus.publish('alice', 1);
      await y.bus.publish('alice', 2);
      await waitFor(() => (x.heard.length ? true : undefined), 'X to hear Y');
      expect(x.heard).toEqual([{ principal: 'alice', requestId: 2 }]);
    } finally {
      for (const bus of buses.splice(0)) await bus.close();
      for (const store of stores.splice(0)) await store.close();
      await other.cleanup();
    }
  });

  it('ignores junk on the channel with a warning and keeps listening', async () => {
    const sink = logSink();
    const a = await replica(backend, sink.log);
    const b = await replica();
    for (const junk of ['', 'not json', '{"v":1,"principal":"alice","request_id":3}'])
      await sql('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, junk]);
    await b.bus.publish('alice', 3);
    await waitFor(() => (a.heard.length ? true : undefined), 'A to hear B');
    expect(a.heard).toEqual([{ principal: 'alice', requestId: 3 }]);
    expect(sink.text().match(/not a cancellation/g)).toHaveLength(3);
  });

  it('a handler that throws is logged and does not stop the others', async () => {
    const sink = logSink();
    const a = await replica(backend, sink.log);
    a.bus.subscribe(() => {
      throw new Error('boom');
    });
    const later: Cancellation[] = [];
    a.bus.subscribe((c) => later.push(c));
    const b = await replica();
    await b.bus.publish('alice', 4);
    await waitFor(() => (later.length ? true : undefined), 'the last handler');
    expect(a.heard).toHaveLength(1);
    expect(sink.text()).toContain('delivering a cancellation from another replica failed');
  });

  it('does not send a request id too long for NOTIFY', async () => {
    const sink = logSink();
    const a = await replica(backend, sink.log);
    const b = await replica();
    await a.bus.publish('alice', 'x'.repeat(MAX_CANCEL_PAYLOAD_BYTES));
    await a.bus.publish('alice', 5);
    await waitFor(() => (b.heard.length ? true : undefined), 'B to hear A');
    expect(b.heard).toEqual([{ principal: 'alice', requestId: 5 }]);
    expect(sink.text()).toContain('its request id is too long');
  });

  it('reconnects when its connection is killed, and says so on the log', async () => {
    const sink = logSink();
    const a = await replica(backend, sink.log);
    const b = await replica();
    const first = await waitFor(() => listenerPid(a.bus), "A's listener");
    await sql('SELECT pg_terminate_backend($1)', [first]);
    await waitFor(async () => {
      const pid = await listenerPid(a.bus);
      return pid !== undefined && pid !== first ? pid : undefined;
    }, 'A to listen again');
    expect(sink.text()).toContain('lost the connection that listens for cancellations');
    await waitFor(
      () => /listening for cancellations .* again/.test(sink.text()) || undefined,
      'the log line',
    );
    await b.bus.publish('alice', 6);
    await waitFor(() => (a.heard.length ? true : undefined), 'A to hear B after reconnecting');
    expect(a.heard).toEqual([{ principal: 'alice', requestId: 6 }]);
  });

  it('closes its connection', async () => {
    const a = await replica();
    await waitFor(() => listenerPid(a.bus), "A's listener");
    await a.bus.close();
    // The server process behind a closed connection takes a moment to leave pg_stat_activity.
    await waitFor(async () => (await listenerPid(a.bus)) === undefined || undefined, 'the listener to go');
  });

  it('starts without a database, warns, and keeps publishing harmless', async () => {
    const sink = logSink();
    const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    unreachable.on('error', () => {});
    const bus = new PostgresCancelBus({
      url: 'postgres://postgres@127.0.0.1:1/test',
      schema: 'day2',
      publisher: unreachable,
      log: sink.log,
    });
    try {
      await bus.ready;
      expect(sink.text()).toContain('cannot listen for cancellations from other replicas');
      await expect(bus.publish('alice', 1)).resolves.toBeUndefined();
      expect(sink.text()).toContain('could not send a cancellation');
    } finally {
      await bus.close();
      await unreachable.end();
    }
  });
});
