import { ToolError } from '../../../contract/define-tool.js';

/** A database credential as AWS's rotation templates store it (JSON SecretString). */
export interface DbCredential {
  username: string;
  password: string;
  host: string;
  port: number;
  dbname: string;
  /** Every member, so that a new version keeps fields day2 does not know about. */
  members: Record<string, unknown>;
}

/** Parses a SecretString as a database credential, or returns undefined. Never echoes the value. */
export function parseDbCredential(value: string): DbCredential | undefined {
  let members: unknown;
  try {
    members = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!members || typeof members !== 'object' || Array.isArray(members)) return undefined;
  const m = members as Record<string, unknown>;
  if (typeof m.username !== 'string' || typeof m.password !== 'string') return undefined;
  const engine = typeof m.engine === 'string' ? m.engine : 'postgres';
  if (!/^postgres/.test(engine)) return undefined;
  return {
    username: m.username,
    password: m.password,
    host: typeof m.host === 'string' ? m.host : '127.0.0.1',
    port: typeof m.port === 'number' ? m.port : Number(m.port ?? 5432),
    dbname:
      typeof m.dbname === 'string' ? m.dbname : typeof m.database === 'string' ? m.database : 'postgres',
    members: m,
  };
}

export function requireDbCredential(value: string, secret: string): DbCredential {
  const c = parseDbCredential(value);
  if (!c)
    throw new ToolError(
      `secret: ${secret} is not a PostgreSQL credential (a JSON SecretString with engine, username, password, host, port and dbname), so day2 cannot rotate it`,
      'not_rotatable',
      'secret',
    );
  return c;
}

const CLONE = '_clone';

/** alternating-users: `<role>` ↔ `<role>_clone`. */
export function alternateRole(role: string): string {
  return role.endsWith(CLONE) ? role.slice(0, -CLONE.length) : `${role}${CLONE}`;
}

/** The role whose privileges both alternating users share. */
export function baseRole(role: string): string {
  return role.endsWith(CLONE) ? role.slice(0, -CLONE.length) : role;
}

/** The SecretString of the new version: same members, new user and password. */
export function nextCredentialValue(current: DbCredential, username: string, password: string): string {
  return JSON.stringify({ ...current.members, username, password });
}
