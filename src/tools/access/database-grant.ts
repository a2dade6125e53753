import type pg from 'pg';
import type { DbRef, PostgresProvider } from '../../providers/postgres/postgres-provider.js';
import type { AccessGrant } from './grant.js';

/**
 * Time-bound database access in PostgreSQL terms.
 *
 * `GRANT role TO user` makes the login a member of `role`. PostgreSQL has no expiry on a
 * membership, so day2 also sets `ALTER ROLE user VALID UNTIL '<expiry>'`. Understand what that
 * does: VALID UNTIL is the expiry of the login's *password*. After it, password authentication
 * (md5 / scram-sha-256) is refused for that user — for every database on the server, not only for
 * the granted role — while sessions already open stay open, and methods that do not check a
 * password (trust, peer, cert, ident, ...) are not affected at all. It is a safety net for the case
 * where day2 cannot run, not the enforcement: the reaper REVOKEs the membership at expiry, restores
 * the VALID UNTIL the login had before the grant, and terminates the user's open sessions so that a
 * session that did `SET ROLE` to the granted role cannot keep it.
 */
export interface DatabaseGrantState {
  userExists: boolean;
  userCanLogin: boolean;
  roleExists: boolean;
  alreadyMember: boolean;
  /** The login's current VALID UNTIL ('infinity', a timestamp, or null for none). */
  validUntil: string | null;
}

export async function inspectDatabaseGrant(
  pgp: PostgresProvider,
  ref: DbRef,
  user: string,
  role: string,
): Promise<DatabaseGrantState> {
  const rows = await pgp.query<{
    user_exists: boolean;
    can_login: boolean | null;
    role_exists: boolean;
    member: boolean;
    valid_until: string | null;
  }>(
    ref,
    `select exists(select 1 from pg_roles where rolname = $1) as user_exists,
            (select rolcanlogin from pg_roles where rolname = $1) as can_login,
            exists(select 1 from pg_roles where rolname = $2) as role_exists,
            exists(select 1 from pg_auth_members m join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member
                   where r.rolname = $2 and u.rolname = $1) as member,
            (select case when rolvaliduntil is null then null
                         when rolvaliduntil = 'infinity'::timestamptz then 'infinity'
                         else to_char(rolvaliduntil at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') end
               from pg_roles where rolname = $1) as valid_until`,
    [user, role],
  );
  const r = rows[0]!;
  return {
    userExists: r.user_exists,
    userCanLogin: r.can_login === true,
    roleExists: r.role_exists,
    alreadyMember: r.member,
    validUntil: r.valid_until,
  };
}

/** GRANT role TO user and VALID UNTIL the expiry, in one transaction. */
export async function applyDatabaseGrant(pgp: PostgresProvider, ref: DbRef, g: AccessGrant): Promise<void> {
  await pgp.withClient(
    ref,
    async (c) => {
      await inTransaction(c, async () => {
        await c.query(`GRANT ${c.escapeIdentifier(g.role)} TO ${c.escapeIdentifier(g.principal)}`);
        await c.query(
          `ALTER ROLE ${c.escapeIdentifier(g.principal)} VALID UNTIL ${c.escapeLiteral(g.expires_at)}`,
        );
      });
    },
    { discard: true },
  );
}

/**
 * REVOKE role FROM user, restore the login's previous VALID UNTIL, then end the user's open
 * sessions. Idempotent: revoking a membership that is gone is not an error. Returns how many
 * sessions were ended.
 */
export async function revokeDatabaseGrant(
  pgp: PostgresProvider,
  ref: DbRef,
  g: AccessGrant,
): Promise<{ sessionsEnded: number }> {
  return pgp.withClient(
    ref,
    async (c) => {
      const exists =
        (
          await c.query<{ n: number }>('select count(*)::int as n from pg_roles where rolname = $1', [
            g.principal,
          ])
        ).rows[0]!.n > 0;
      if (!exists) return { sessionsEnded: 0 };
      const roleExists =
        (await c.query<{ n: number }>('select count(*)::int as n from pg_roles where rolname = $1', [g.role]))
          .rows[0]!.n > 0;
      await inTransaction(c, async () => {
        if (roleExists)
          await c.query(`REVOKE ${c.escapeIdentifier(g.role)} FROM ${c.escapeIdentifier(g.principal)}`);
        const restore = g.previous_valid_until ?? 'infinity';
        await c.query(
          `ALTER ROLE ${c.escapeIdentifier(g.principal)} VALID UNTIL ${c.escapeLiteral(restore)}`,
        );
      });
      const ended = await c.query<{ ok: boolean }>(
        'select pg_terminate_backend(pid) as ok from pg_stat_activity where usename = $1 and pid <> pg_backend_pid()',
        [g.principal],
      );
      return { sessionsEnded: ended.rows.filter((r) => r.ok).length };
    },
    { discard: true },
  );
}

async function inTransaction(c: pg.ClientBase, fn: () => Promise<void>): Promise<void> {
  await c.query('BEGIN');
  try {
    await fn();
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
