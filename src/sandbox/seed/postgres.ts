import pg from 'pg';
import type { Fleet } from '../fleet-schema.js';
import type { Logger } from '../../core/log.js';

/** The shared server the sandbox falls back to without server binaries (trust auth on loopback). */
export const DEFAULT_SANDBOX_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The least-privilege role explain_query switches to in the sandbox (databases' explain_role):
 * NOLOGIN, SELECT on the fleet's tables and nothing else, so SQL from a model never runs with the
 * superuser rights the sandbox connects with.
 */
export const SANDBOX_EXPLAIN_ROLE = 'day2_explain';

/** A session-level lock that serializes concurrent seeders (parallel test files). */
const SEED_LOCK = 0x6461_7932; // "day2"

export interface PostgresSeedResult {
  ok: boolean;
  databases: string[];
  roles: string[];
  /** Why it was skipped, or what the operator should know. */
  notes: string[];
}

interface Plan {
  databases: Map<string, { owner?: string; table: string; readers: Set<string>; writers: Set<string> }>;
  /** role → password (AWSCURRENT of its secret); production wins when environments disagree. */
  logins: Map<string, { password: string; env: string }>;
  owners: Set<string>;
  notes: string[];
}

const TIER_ORDER = { development: 0, staging: 1, production: 2 } as const;
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** What the fleet needs in PostgreSQL: databases, their owner roles, and login roles with passwords. */
export function planPostgres(fleet: Fleet): Plan {
  const plan: Plan = { databases: new Map(), logins: new Map(), owners: new Set(), notes: [] };
  const envs = Object.entries(fleet.environments).sort(
    ([, a], [, b]) => TIER_ORDER[a.tier] - TIER_ORDER[b.tier],
  );
  const shared = new Set<string>();
  for (const [envName, env] of envs) {
    for (const [key, db] of Object.entries(env.databases)) {
      if (db.owner_role) plan.owners.add(db.owner_role);
      plan.databases.set(db.database, {
        owner: db.owner_role,
        table: key.replace(/[^a-z0-9_]/g, '_'),
        readers: new Set(),
        writers: new Set(),
      });
    }
    for (const s of env.secrets.aws) {
      if (s.database === undefined || typeof s.value === 'string') continue;
      const username = s.value.username;
      const password = s.value.password;
      const db = env.databases[s.database];
      if (typeof username !== 'string' || typeof password !== 'string' || !db) continue;
      const prior = plan.logins.get(username);
      if (prior && prior.password !== password) shared.add(username);
      plan.logins.set(username, { password, env: envName });
      const entry = plan.databases.get(db.database)!;
      (username.endsWith('_ro') ? entry.readers : entry.writers).add(username);
    }
  }
  if (shared.size > 0)
    plan.notes.push(
      `roles ${[...shared].sort().join(', ')} serve several environments with different passwords; a PostgreSQL role belongs to the whole server, so each takes the password of its most production-like environment`,
    );
  return plan;
}

/**
 * The fleet as placed on a server: every database and role name carries `prefix`, and every
 * database and database credential points at `host`:`port`. On the sandbox's own cluster the
 * prefix is empty; on a shared server it keeps this sandbox's names apart from everyone else's.
 */
export function placeFleetDatabases(
  fleet: Fleet,
  where: { host: string; port: number; prefix: string },
): Fleet {
  const { host, port, prefix } = where;
  const environments = Object.fromEntries(
    Object.entries(fleet.environments).map(([name, env]) => [
      name,
      {
        ...env,
        databases: Object.fromEntries(
          Object.entries(env.databases).map(([key, db]) => [
            key,
            {
              ...db,
              database: prefix + db.database,
              host,
              port,
              ...(db.owner_role ? { owner_role: prefix + db.owner_role } : {}),
            },
          ]),
        ),
        secrets: {
          ...env.secrets,
          aws: env.secrets.aws.map((s) => {
            if (s.database === undefined || typeof s.value === 'string') return s;
            const { username, dbname } = s.value;
            return {
              ...s,
              value: {
                ...s.value,
                host,
                port,
                ...(typeof username === 'string' ? { username: prefix + username } : {}),
                ...(typeof dbname === 'string' ? { dbname: prefix + dbname } : {}),
              },
            };
          }),
        },
      },
    ]),
  );
  return { ...fleet, environments };
}

/**
 * Creates the fleet's databases and roles on a real PostgreSQL so that credential rotation can
 * really log in: owner roles (NOLOGIN), LOGIN roles whose password is their secret's AWSCURRENT,
 * the NOLOGIN role explain_query switches to (`explainRole`), databases owned by their owner role
 * with one small table, and grants. It only creates: a role that already exists is someone
 * else's (another sandbox, a test, a person) and is left exactly as it is, with a note. When the
 * server cannot be reached, nothing is created and the result says so.
 */
export async function seedPostgres(
  fleet: Fleet,
  opts: { url: string; log: Logger; explainRole?: string; connectTimeoutMs?: number },
): Promise<PostgresSeedResult> {
  const plan = planPostgres(fleet);
  const explainRole = opts.explainRole ?? SANDBOX_EXPLAIN_ROLE;
  const admin = new pg.Client({
    connectionString: opts.url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 2000,
  });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
  } catch (err) {
    return {
      ok: false,
      databases: [],
      roles: [],
      notes: [
        `PostgreSQL at ${redactUrl(opts.url)} is not reachable (${(err as Error).message}); databases were not created`,
      ],
    };
  }
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [SEED_LOCK]);
    const roles = new Set(
      (await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles')).rows.map((r) => r.rolname),
    );
    const created: string[] = [];
    const foreign: string[] = [];
    const create = async (role: string, how: string) => {
      if (roles.has(role)) return void foreign.push(role);
      // Utility statements take no parameters; a password is quoted as a literal.
      await admin.query(`CREATE ROLE ${ident(role)} ${how}`);
      created.push(role);
    };
    for (const owner of plan.owners) await create(owner, 'NOLOGIN');
    await create(explainRole, 'NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION');
    for (const [role, { password }] of plan.logins) await create(role, `LOGIN PASSWORD ${literal(password)}`);
    if (foreign.length > 0)
      plan.notes.push(
        `roles ${foreign.sort().join(', ')} already exist on ${redactUrl(opts.url)} and were left unchanged (the sandbox changes only roles it created): their passwords may not match the sandbox's secrets`,
      );
    const existing = new Set(
      (await admin.query<{ datname: string }>('SELECT datname FROM pg_database')).rows.map((r) => r.datname),
    );
    for (const [name, db] of plan.databases) {
      if (!existing.has(name))
        await admin.query(`CREATE DATABASE ${ident(name)}${db.owner ? ` OWNER ${ident(db.owner)}` : ''}`);
    }
    // Databases are independent: their tables and grants are written in parallel.
    await Promise.all([...plan.databases].map(([name, db]) => seedDatabase(opts.url, name, db, explainRole)));
    return {
      ok: true,
      databases: [...plan.databases.keys()],
      roles: created,
      notes: plan.notes,
    };
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [SEED_LOCK]).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

/**
 * Drops what one sandbox made on a shared server: every database and role whose name starts with
 * its prefix (the roles a rotation created, `<role>_clone`, included). Connections still open to
 * those databases are ended first.
 */
export async function dropPrefixed(url: string, prefix: string): Promise<void> {
  if (!/^[a-z0-9_]{6,}$/.test(prefix)) throw new Error(`refusing to drop objects by the prefix "${prefix}"`);
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const like = `${prefix.replace(/_/g, '\\_')}%`;
    const dbs = await admin.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [like],
    );
    for (const { datname } of dbs.rows)
      await admin.query(`DROP DATABASE IF EXISTS ${ident(datname)} WITH (FORCE)`);
    const roles = await admin.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname LIKE $1',
      [like],
    );
    for (const { rolname } of roles.rows) await admin.query(`DROP ROLE IF EXISTS ${ident(rolname)}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function seedDatabase(
  adminUrl: string,
  name: string,
  db: { owner?: string; table: string; readers: Set<string>; writers: Set<string> },
  explainRole: string,
): Promise<void> {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const c = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    // What the database tools use where a server has them: query history for slow_queries,
    // hypothetical indexes for explain_query. A server without the packages does without. Their
    // own schema keeps their views out of the grants on public below; everyone may use them.
    await c.query('CREATE SCHEMA IF NOT EXISTS extensions');
    await c.query('GRANT USAGE ON SCHEMA extensions TO PUBLIC');
    for (const ext of ['pg_stat_statements', 'hypopg'])
      await c.query(
        `DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = '${ext}') THEN CREATE EXTENSION IF NOT EXISTS ${ext} SCHEMA extensions; END IF; END $$`,
      );
    if (db.owner) await c.query(`SET ROLE ${ident(db.owner)}`);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${ident(db.table)} (id bigserial PRIMARY KEY, reference text NOT NULL UNIQUE, status text NOT NULL DEFAULT 'open', amount_cents integer NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now())`,
    );
    await c.query(
      `INSERT INTO ${ident(db.table)} (reference, status, amount_cents, created_at)
       SELECT 'SBX-' || lpad(g::text, 5, '0'), (ARRAY['open','paid','shipped','closed'])[1 + g % 4], (g * 137) % 20000, now() - make_interval(hours => g)
       FROM generate_series(1, 200) AS g
       ON CONFLICT (reference) DO NOTHING`,
    );
    await c.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await c.query(`INSERT INTO schema_migrations (version) VALUES ('0001_init') ON CONFLICT DO NOTHING`);
    for (const r of [...db.readers, ...db.writers, explainRole]) {
      await c.query(`GRANT CONNECT ON DATABASE ${ident(name)} TO ${ident(r)}`);
      await c.query(`GRANT USAGE ON SCHEMA public TO ${ident(r)}`);
    }
    for (const r of [...db.readers, explainRole])
      await c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ident(r)}`);
    for (const r of db.writers) {
      await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ident(r)}`);
      await c.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${ident(r)}`);
    }
    if (db.owner) await c.query('RESET ROLE');
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The admin URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** The connection string of one database on the sandbox server: the admin URL, another dbname, no password. */
export function databaseUrl(adminUrl: string, dbname: string): string {
  const u = new URL(adminUrl);
  u.password = '';
  u.pathname = `/${dbname}`;
  return u.toString();
}
