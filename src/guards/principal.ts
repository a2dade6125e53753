import { userInfo } from 'node:os';

/** Who is acting: a person or service account, plus the MCP client and transport it came through. */
export interface Principal {
  id: string;
  client?: string;
  transport: 'stdio' | 'http' | 'cli' | 'internal';
  session?: string;
}

/**
 * The identity of a local user (stdio server or CLI approver): DAY2_PRINCIPAL, else the configured
 * principal, else the OS user. Only as strong as the machine account; the README says so.
 */
export function localPrincipalId(env: NodeJS.ProcessEnv, configured?: string): string {
  const fromEnv = env.DAY2_PRINCIPAL?.trim();
  if (fromEnv) return fromEnv;
  if (configured) return configured;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
