import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { translatePgError } from '../../../providers/postgres/errors.js';

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * A SCRAM-SHA-256 verifier for `password` (RFC 5802/7677, PostgreSQL's stored format). day2 sends
 * the verifier, never the password, in ALTER ROLE: the server's statement log and
 * pg_stat_statements cannot leak what they never see.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Sets a role's password (as a SCRAM verifier) on an admin connection. */
export async function setRolePassword(
  admin: pg.ClientBase,
  role: string,
  password: string,
  where: string,
): Promise<void> {
  try {
    await admin.query(`ALTER ROLE ${ident(role)} WITH LOGIN PASSWORD '${scramVerifier(password)}'`);
  } catch (err) {
    throw translatePgError(err, where);
  }
}

export async function roleExists(admin: pg.ClientBase, role: string): Promise<boolean> {
  const r = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  return (r.rowCount ?? 0) > 0;
}

/**
 * alternating-users: makes sure `clone` exists as a LOGIN role holding `base`'s privileges (by
 * membership, so that grants made to `base` later reach it too).
 */
export async function ensureAlternateRole(
  admin: pg.ClientBase,
  base: string,
  clone: string,
  where: string,
): Promise<'created' | 'existed'> {
  try {
    if (!(await roleExists(admin, base))) throw new Error(`role "${base}" does not exist`);
    let created: 'created' | 'existed' = 'existed';
    if (!(await roleExists(admin, clone))) {
      await admin.query(`CREATE ROLE ${ident(clone)} LOGIN INHERIT`);
      created = 'created';
    }
    const member = await admin.query(
      `SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = $1 AND u.rolname = $2`,
      [base, clone],
    );
    if ((member.rowCount ?? 0) === 0) await admin.query(`GRANT ${ident(base)} TO ${ident(clone)}`);
    return created;
  } catch (err) {
    throw translatePgError(err, where);
  }
}
