import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { AuditCheckpoint } from '../store/store.js';

/**
 * A place outside the audit store that keeps a copy of every signed checkpoint, so that whoever can
 * rewrite the store (and its checkpoint rows) still cannot make `day2 audit verify` pass: the copy
 * names the chain's hash at seqs the store must still reproduce.
 */
export interface AuditWitness {
  /** What it is, for messages: `file /mnt/witness/day2.jsonl`, never a password. */
  readonly describe: string;
  /** Keeps `cp`; resolves once it is durable there. Throws WitnessError. */
  record(cp: AuditCheckpoint): Promise<void>;
  /** Every checkpoint it holds, or undefined for a witness that cannot be read back (a webhook). */
  read(): Promise<AuditCheckpoint[] | undefined>;
  close(): Promise<void>;
}

export class WitnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WitnessError';
  }
}

/** `audit.witness` after validation, with paths resolved and secrets looked up. */
export type WitnessSettings =
  | { kind: 'file'; path: string }
  | { kind: 'directory'; path: string }
  | { kind: 'webhook'; url: string; token?: string; timeoutMs: number }
  | { kind: 'postgres'; url: string; table: string };

export function openWitness(s: WitnessSettings): AuditWitness {
  switch (s.kind) {
    case 'file':
    case 'directory':
      return new FileWitness(s.kind, s.path);
    case 'webhook':
      return new WebhookWitness(s.url, s.token, s.timeoutMs);
    case 'postgres':
      return new PostgresWitness(s.url, s.table);
  }
}

/**
 * JSON lines appended to a file opened O_APPEND and fsynced before `record` resolves. Meant for
 * another volume (an NFS export, a WORM or `chattr +a` mount) that day2's host cannot rewrite.
 */
class FileWitness implements AuditWitness {
  readonly describe: string;

  constructor(
    private readonly kind: 'file' | 'directory',
    private readonly root: string,
  ) {
    this.describe = `${kind} ${root}`;
  }

  /** A directory gets one file a day: an operator can seal (chattr +i, object lock) the days that are over. */
  private fileFor(cp: AuditCheckpoint): string {
    return this.kind === 'file' ? this.root : join(this.root, `checkpoints-${cp.ts.slice(0, 10)}.jsonl`);
  }

  async record(cp: AuditCheckpoint): Promise<void> {
    const path = this.fileFor(cp);
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const fh = await open(path, 'a', 0o600);
      try {
        await fh.appendFile(JSON.stringify(witnessLine(cp)) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw new WitnessError(`audit witness ${this.describe}: cannot append: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  read(): Promise<AuditCheckpoint[]> {
    const files =
      this.kind === 'file'
        ? [this.root]
        : listOrEmpty(this.root)
            .filter((f) => f.endsWith('.jsonl'))
            .sort()
            .map((f) => join(this.root, f));
    const out: AuditCheckpoint[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new WitnessError(
          `audit witness ${this.describe}: cannot read ${file}: ${(err as Error).message}`,
        );
      }
      text.split('\n').forEach((line, i) => {
        if (line.trim()) out.push(parseWitnessLine(line, `${file}:${i + 1}`));
      });
    }
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** POSTs each checkpoint; a 2xx answer counts as kept. It cannot be read back. */
class WebhookWitness implements AuditWitness {
  readonly describe: string;

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly timeoutMs: number,
  ) {
    const u = new URL(url);
    this.describe = `webhook ${u.origin}${u.pathname}`;
  }

  async record(cp: AuditCheckpoint): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ kind: 'day2.audit.checkpoint', checkpoint: witnessLine(cp) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new WitnessError(`audit witness ${this.describe} is unreachable: ${(err as Error).message}`, {
        cause: err,
      });
    }
    await res.body?.cancel();
    if (!res.ok) throw new WitnessError(`audit witness ${this.describe} answered ${res.status}`);
  }

  read(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A table in another database (or under another role) that day2's witness role may only INSERT
 * into and SELECT from; the README gives the SQL that creates it. day2 never creates it itself,
 * so that the role that writes it need not own it.
 */
class PostgresWitness implements AuditWitness {
  readonly describe: string;
  private readonly pool: pg.Pool;
  private readonly table: string;

  constructor(url: string, table: string) {
    this.table = table
      .split('.')
      .map((p) => `"${p.replaceAll('"', '""')}"`)
      .join('.');
    let where = '(unparsable connection string)';
    try {
      const u = new URL(url);
      where = `${u.hostname}:${u.port || '5432'}${u.pathname}`;
    } catch {
      // keep the placeholder: the URL may hold a password, never echo it
    }
    this.describe = `postgres ${where} table ${table}`;
    this.pool = new pg.Pool({
      connectionString: url,
      max: 2,
      connectionTimeoutMillis: 10_000,
      application_name: 'day2-witness',
    });
    this.pool.on('error', () => {});
  }

  async record(cp: AuditCheckpoint): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO ${this.table} (seq, hash, ts, key_id, signature) VALUES ($1, $2, $3, $4, $5)`,
        [cp.seq, cp.hash, cp.ts, cp.key_id, cp.signature],
      );
    } catch (err) {
      // The same checkpoint offered twice (a restart re-offers the latest) is already kept.
      if ((err as { code?: string }).code === '23505') return;
      throw this.error('cannot insert', err);
    }
  }

  async read(): Promise<AuditCheckpoint[]> {
    try {
      const res = await this.pool.query<{
        seq: string;
        hash: string;
        ts: string;
        key_id: string;
        signature: string;
      }>(`SELECT seq, hash, ts, key_id, signature FROM ${this.table} ORDER BY seq`);
      return res.rows.map((r) => ({ ...r, seq: Number(r.seq) }));
    } catch (err) {
      throw this.error('cannot read', err);
    }
  }

  private error(what: string, err: unknown): WitnessError {
    const code = (err as { code?: string }).code;
    const hint =
      code === '42P01'
        ? ': the table does not exist (create it with the SQL in the README, "Audit: threat model")'
        : code === '42501'
          ? ': the witness role lacks INSERT or SELECT on the table'
          : `: ${(err as Error).message}`;
    return new WitnessError(`audit witness ${this.describe}: ${what}${hint}`, { cause: err });
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function witnessLine(cp: AuditCheckpoint): AuditCheckpoint {
  return { seq: cp.seq, hash: cp.hash, ts: cp.ts, key_id: cp.key_id, signature: cp.signature };
}

function parseWitnessLine(line: string, where: string): AuditCheckpoint {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new WitnessError(`audit witness ${where}: not a JSON line`);
  }
  const o = v as Record<string, unknown>;
  const ok =
    typeof o.seq === 'number' &&
    Number.isSafeInteger(o.seq) &&
    o.seq > 0 &&
    typeof o.hash === 'string' &&
    typeof o.ts === 'string' &&
    typeof o.key_id === 'string' &&
    typeof o.signature === 'string';
  if (!ok)
    throw new WitnessError(
      `audit witness ${where}: expected a checkpoint {seq, hash, ts, key_id, signature}, got something else`,
    );
  return witnessLine(o as unknown as AuditCheckpoint);
}

function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new WitnessError(`audit witness directory ${dir}: cannot list: ${(err as Error).message}`);
  }
}
