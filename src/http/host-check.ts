import { isIP } from 'node:net';

/** Whether a bind address or host name stays on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * The Host and Origin checks that stop DNS rebinding: a browser tricked into calling a local
 * day2 sends a foreign Host or Origin, which is refused before anything else runs.
 */
export class OriginPolicy {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;

  constructor(port: number, extra: { allowedHosts: readonly string[]; allowedOrigins: readonly string[] }) {
    const loopback = ['127.0.0.1', 'localhost', '[::1]'];
    this.hosts = new Set([
      ...loopback.map((h) => `${h}:${port}`),
      ...extra.allowedHosts.map((h) => h.toLowerCase()),
    ]);
    this.origins = new Set([
      ...loopback.map((h) => `http://${h}:${port}`),
      ...extra.allowedOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')),
    ]);
  }

  /** The Host header must name this server (an allowed_hosts entry without a port matches any port). */
  hostAllowed(host: string | undefined): boolean {
    if (!host) return false;
    const h = host.toLowerCase();
    if (this.hosts.has(h)) return true;
    const bare = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0];
    return bare !== undefined && this.hosts.has(bare);
  }

  /** An Origin header, when present, must be one of ours; "null" origins are refused. */
  originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    return this.origins.has(origin.toLowerCase().replace(/\/$/, ''));
  }
}
