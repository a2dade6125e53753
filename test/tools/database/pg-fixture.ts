import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Catalog } from '../../../src/catalog/catalog.js';
import { ManualClock } from '../../../src/core/clock.js';
import { configSchema, type Config } from '../../../src/config/schema.js';
import type { Deps } from '../../../src/contract/deps.js';
import { silentLogger } from '../../../src/core/log.js';
import { Redactor } from '../../../src/core/redact.js';
import { BackendNotConfiguredError, type Backends } from '../../../src/providers/backends.js';
import { PostgresProvider } from '../../../src/providers/postgres/postgres-provider.js';
import type { Store, StoredDoc } from '../../../src/store/store.js';
import type { AnyTool, ExecuteContext } from '../../../src/contract/define-tool.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Clock } from '../../../src/core/clock.js';
import { buildRuntime, type OwnedRuntime } from '../../../src/server/build-runtime.js';
import { inMemoryClient } from '../../fixtures/in-memory.js';

/** The test server: 127.0.0.1:5432, trust auth. */
export const PG_ADMIN_URL = process.env.DAY2_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function urlFor(dbname: string, user = 'postgres'): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${dbname}`;
  u.username = user;
  return u.toString();
}

/** Runs SQL as the admin on the maintenance database. */
export async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A client on a test database, for seeding and for playing "another session". */
export async function connect(dbname: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: urlFor(dbname) });
  await c.connect();
  return c;
}

/** The server process id of a client's session. */
export async function backendPid(c: pg.Client): Promise<number> {
  return (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
}

/** A port on 127.0.0.1 where nothing listens. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Backends with only PostgreSQL configured; every other accessor says so, as in production. */
export function postgresOnly(provider: PostgresProvider): Backends {
  const none =
    (backend: string) =>
    (env: string): never => {
      throw new BackendNotConfiguredError(backend, env);
    };
  return {
    has: (_env, backend) => backend === 'postgres',
    kubernetes: none('kubernetes'),
    datadog: none('datadog'),
    alertmanager: none('alertmanager'),
    secrets: none('secrets-manager'),
    registry: none('registry'),
    postgres: provider,
  };
}

/** A minimal in-memory Store: the database tools only need documents, if anything. */
export function memoryStore(): Store {
  const docs = new Map<string, StoredDoc>();
  const unused = (): never => {
    throw new Error('not used by the database tools');
  };
  return {
    kind: 'sqlite',
    appendAudit: unused,
    queryAudit: unused,
    countAudit: unused,
    scanAudit: unused,
    auditHead: unused,
    addCheckpoint: unused,
    checkpoints: unused,
    createApproval: unused,
    issueToken: unused,
    releaseApproval: unused,
    getApproval: unused,
    listApprovals: unused,
    decideApproval: unused,
    consumeToken: unused,
    consumeApproval: unused,
    expireApprovals: unused,
    getDoc<T>(collection: string, id: string) {
      return Promise.resolve(docs.get(`${collection}/${id}`) as StoredDoc<T> | undefined);
    },
    putDoc<T>(collection: string, id: string, value: T) {
      const prev = docs.get(`${collection}/${id}`);
      const doc: StoredDoc<T> = {
        collection,
        id,
        value,
        version: (prev?.version ?? 0) + 1,
        updated_at: new Date().toISOString(),
      };
      docs.set(`${collection}/${id}`, doc);
      return Promise.resolve(doc);
    },
    listDocs<T>(collection: string) {
      return Promise.resolve([...docs.values()].filter((d) => d.collection === collection) as StoredDoc<T>[]);
    },
    deleteDoc(collection: string, id: string) {
      return Promise.resolve(docs.delete(`${collection}/${id}`));
    },
    close: () => Promise.resolve(),
  };
}

export interface TestDb {
  name: string;
  dir: string;
  config: Config;
  provider: PostgresProvider;
  deps: Deps;
  progress: Array<{ progress: number; total?: number; message?: string }>;
  /** A call's context, with the governance facts execute gets (an unapproved test action). */
  ctx(): ExecuteContext;
  /** Drops the database and the temp folder, closes pools. */
  drop(): Promise<void>;
}

/**
 * A fresh database `day2_t_<random>` with an environment `test` whose database `app` points at it,
 * a migrations folder and a backups folder in a temp dir, and a real PostgresProvider.
 */
export async function createTestDb(
  extraDatabases: Record<string, { url?: string; url_env?: string; migrations?: string }> = {},
): Promise<TestDb> {
  const name = `day2_t_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const dir = await mkdtemp(join(tmpdir(), 'day2-db-'));
  const config = configSchema.parse({
    environments: {
      test: {
        tier: 'development',
        databases: { app: { url: urlFor(name), migrations: join(dir, 'migrations') }, ...extraDatabases },
        backups: join(dir, 'backups'),
      },
    },
  });
  const provider = new PostgresProvider(config, {
    env: { ...process.env, DAY2_TEST_SECRET_URL: 'postgres://postgres:hunter2hunter2@127.0.0.1:1/x' },
    connectTimeoutMs: 3000,
  });
  const deps: Deps = {
    config,
    store: memoryStore(),
    clock: new ManualClock(),
    log: silentLogger,
    redactor: new Redactor(),
    backends: postgresOnly(provider),
    catalog: Catalog.empty(),
  };
  const progress: TestDb['progress'] = [];
  return {
    name,
    dir,
    config,
    provider,
    deps,
    progress,
    ctx: () => ({
      deps,
      principal: { id: 'tester', transport: 'internal' },
      signal: new AbortController().signal,
      callId: '1',
      action: { digest: 'test-action', approvers: [] },
      progress: (p, total, message) => {
        progress.push({ progress: p, total, message });
        return Promise.resolve();
      },
    }),
    async drop() {
      await provider.close();
      await admin(async (c) => {
        const dbs = (
          await c.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [
            `${name}%`,
          ])
        ).rows;
        for (const d of dbs)
          await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(d.datname)} WITH (FORCE)`);
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A runtime over PostgreSQL alone, its store in a temp folder, and an agent's MCP client to it. */
export interface DatabaseSession {
  rt: OwnedRuntime;
  provider: PostgresProvider;
  agent: Client;
  /** Closes the client, the runtime and the provider, and removes the temp folder. */
  close(): Promise<void>;
}

export async function startDatabaseSession(opts: {
  config: Config;
  tools: readonly AnyTool[];
  agent: string;
  clock?: Clock;
}): Promise<DatabaseSession> {
  const dir = await mkdtemp(join(tmpdir(), 'day2-dbs-'));
  const provider = new PostgresProvider(opts.config, { log: silentLogger, env: process.env });
  const rt = await buildRuntime({
    loaded: { config: opts.config, baseDir: dir, store: join(dir, 'day2.db') },
    log: silentLogger,
    redactor: new Redactor(),
    env: process.env,
    backends: postgresOnly(provider),
    ...(opts.clock ? { clock: opts.clock } : {}),
    tools: opts.tools,
  });
  const agent = await inMemoryClient(rt, { principal: { id: opts.agent, transport: 'stdio' } });
  return {
    rt,
    provider,
    agent,
    async close() {
      await agent.close();
      await rt.close();
      await provider.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
