import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import type { Logger } from '../core/log.js';
import { StoreUnavailableError } from '../store/store.js';
import type { AuditCheckpoint, AuditInput, AuditRecord, Store } from '../store/store.js';
import { publicKeyPathFor } from './audit-config.js';
import { checkpointPayload, keyIdOf } from './audit-verify.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { AuditWitness } from './audit-witness.js';
import type { Redactor } from '../core/redact.js';

/** The Ed25519 key that signs audit checkpoints. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/**
 * Reads the Ed25519 private key (PKCS#8 PEM) at `path`, creating it with mode 0600 (and its folder
 * with 0700, and its public half as `*.pub.pem`) when it does not exist. Two processes racing to create it end up with the same key.
 */
export function loadOrCreateSigningKey(path: string, log: Logger = silentLogger): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077)
      log.warn('audit signing key is readable by other users; chmod 600 it', {
        path,
        mode: mode.toString(8),
      });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    try {
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      // The public half, for audit.verify_key: verify needs nothing else.
      const pub = publicKeyPathFor(path);
      writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
      log.info('created audit signing key; point audit.verify_key at its public key', {
        path,
        public_key: pub,
      });
    } catch (writeErr) {
      if ((writeErr as NodeJS.ErrnoException).code !== 'EEXIST') throw writeErr;
    }
    pem = readFileSync(path, 'utf8');
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`audit signing key ${path} is not an Ed25519 key`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Signs the chain position `{seq, hash}` at time `ts`. */
export function signCheckpoint(
  key: SigningKey,
  head: { seq: number; hash: string },
  ts: string,
): AuditCheckpoint {
  const cp = { seq: head.seq, hash: head.hash, ts };
  return {
    ...cp,
    key_id: key.keyId,
    signature: sign(null, checkpointPayload(cp), key.privateKey).toString('base64'),
  };
}

export interface AuditLogOptions {
  /** Masks secrets in every record before it is sealed: the runtime's redactor. */
  redactor: Redactor;
  /** Signs checkpoints; without it no checkpoints are written. See loadOrCreateSigningKey. */
  signingKey?: SigningKey;
  /** Keeps a copy of every signed checkpoint outside the store. */
  witness?: AuditWitness;
  /** Records between signed checkpoints; default 256. The first record of a log is signed at once. */
  checkpointEvery?: number;
  clock?: Clock;
  log?: Logger;
  /** Largest group commit; default 500. */
  maxBatch?: number;
  /** Non-durable records kept while the store is failing before the oldest are dropped; default 10,000. */
  maxQueued?: number;
}

interface Entry {
  input: AuditInput;
  ts: string;
  durable: boolean;
  /** A read's record: the only kind a store may commit without waiting for stable storage. */
  relaxed: boolean;
  attempts: number;
  resolve: (r: AuditRecord | undefined) => void;
  reject: (e: StoreUnavailableError) => void;
}

const MAX_ATTEMPTS = 3;
/**
 * The largest canonical record the log writes. Tool arguments are limited to 256 KB before they
 * get here (INPUT_LIMITS); this bounds what plans, details and targets add, and what one record
 * costs every verification after it.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;
const RETRY_DELAY_MS = 1000;

/**
 * The audit log over a Store, with group commit. Every append is redacted, queued and written in
 * order in batches. `durable: true` resolves only once the record and everything queued before it
 * are committed, and rejects with StoreUnavailableError when that fails (a governed write must
 * then not run). Other appends never reject: callers do not wait for them, and a failing store is
 * logged, retried and, past a limit, dropped. Signs a checkpoint every `checkpointEvery` records and
 * on close.
 */
export class AuditLog {
  private readonly queue: Entry[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly every: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private draining: Promise<void> | undefined;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastCheckpointSeq = 0;
  private closed = false;
  /** Checkpoints on their way to the witness, in order, off the appenders' path. */
  private witnessing: Promise<void> = Promise.resolve();
  /** The last failure to reach the witness, cleared by the next success. */
  witnessError: Error | undefined;
  /** The last append failure, cleared by the next successful batch. */
  lastError: StoreUnavailableError | undefined;
  /** Non-durable records given up on because the store kept failing. */
  dropped = 0;

  private constructor(
    readonly store: Store,
    private readonly opts: AuditLogOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.every = opts.checkpointEvery ?? 256;
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxQueued = opts.maxQueued ?? 10_000;
  }

  /** Opens the log; reads the last checkpoint so that the cadence continues across restarts. */
  static async open(store: Store, opts: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(store, opts);
    if (opts.signingKey) {
      try {
        const cps = await store.checkpoints();
        const latest = cps.reduce<AuditCheckpoint | undefined>(
          (m, c) => (m && m.seq >= c.seq ? m : c),
          undefined,
        );
        log.lastCheckpointSeq = latest?.seq ?? 0;
        // Records a crash left unsigned are signed now; otherwise the witness is offered the latest
        // checkpoint again, so that a witness configured today covers the history up to here.
        if (!(await log.checkpoint()) && latest) log.witnessCheckpoint(latest);
      } catch (err) {
        log.log.warn('could not read or sign audit checkpoints', { error: err });
      }
    }
    return log;
  }

  /** The id of the key that signs checkpoints, if any. */
  get keyId(): string | undefined {
    return this.opts.signingKey?.keyId;
  }

  /**
   * Queues a record (redacted first). With `durable`, resolves with the stored record once it is
   * committed, or rejects with StoreUnavailableError. Without, resolves with the record or with
   * undefined if it could not be written, and never rejects. A batch reaches stable storage before
   * it counts as written unless every record in it is `relaxed`: reads, whose records a crash of
   * the database server may lose. Everything about a change (plans, refusals, outcomes) is synced.
   */
  append(
    input: AuditInput,
    opts: { durable?: boolean; relaxed?: boolean } = {},
  ): Promise<AuditRecord | undefined> {
    const durable = opts.durable ?? false;
    const relaxed = !durable && opts.relaxed === true;
    if (this.closed) {
      const err = new StoreUnavailableError('the audit log is closed');
      return durable ? Promise.reject(err) : Promise.resolve(undefined);
    }
    let sealable: AuditInput;
    try {
      sealable = this.sealable(input);
    } catch (err) {
      // Not even the record without its arguments can be written: it fails alone, here, before
      // it could join (and fail) a batch with other sessions' records.
      const error = new StoreUnavailableError(`this audit record cannot be written: ${describe(err)}`, {
        cause: err,
      });
      this.log.error('audit record refused', { error, event: input.event, tool: input.tool });
      if (durable) return Promise.reject(error);
      this.dropped += 1;
      return Promise.resolve(undefined);
    }
    return new Promise<AuditRecord | undefined>((resolve, reject) => {
      this.queue.push({
        input: sealable,
        ts: this.clock.now().toISOString(),
        durable,
        relaxed,
        attempts: 0,
        resolve,
        reject,
      });
      this.shed();
      this.schedule();
    });
  }

  /**
   * The record as it will be sealed: redacted, and known to canonicalise within MAX_RECORD_BYTES.
   * When the arguments or details are what stands in the way (too large, or not canonicalisable),
   * they are replaced by a note saying why, so that the event itself is still recorded.
   */
  private sealable(input: AuditInput): AuditInput {
    const redacted = this.opts.redactor.redact(input);
    const problem = recordProblem(redacted);
    if (!problem) return redacted;
    const note = `[NOT RECORDED: ${problem}]`;
    const reduced: AuditInput = {
      ...redacted,
      ...(redacted.args !== undefined ? { args: note } : {}),
      ...(redacted.targets !== undefined ? { targets: [note] } : {}),
      ...(redacted.detail !== undefined ? { detail: { not_recorded: note } } : {}),
      ...(redacted.approval !== undefined ? { approval: { not_recorded: note } } : {}),
    };
    const still = recordProblem(reduced);
    if (still) throw new RangeError(still);
    this.log.warn('audit record reduced', { event: input.event, tool: input.tool, reason: problem });
    return reduced;
  }

  /** Waits until everything queued so far has been written (or given up on). */
  async flush(): Promise<void> {
    this.cancelRetry();
    while (this.draining || this.queue.length > 0) {
      await (this.draining ?? this.drain());
    }
  }

  /** Signs a checkpoint at the current head now (if it moved since the last one). */
  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    const key = this.opts.signingKey;
    if (!key) return undefined;
    const head = await this.store.auditHead();
    if (!head || head.seq <= this.lastCheckpointSeq) return undefined;
    return this.writeCheckpoint(key, head);
  }

  /** Flushes, signs a final checkpoint and refuses further appends. Does not close the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    try {
      await this.checkpoint();
    } catch (err) {
      this.log.error('could not write the closing audit checkpoint', { error: err });
    }
    await this.witnessing;
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    // setImmediate lets every append made in this turn of the event loop join one batch.
    setImmediate(() => {
      this.scheduled = false;
      if (!this.draining) void this.drain();
    });
  }

  private drain(): Promise<void> {
    this.cancelRetry();
    this.draining = this.drainLoop().finally(() => {
      this.draining = undefined;
      // Appends that arrived while the last batch was committing, after the loop looked.
      if (this.queue.some((e) => e.attempts === 0)) this.schedule();
    });
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let records: AuditRecord[];
      try {
        records = await this.write(batch);
      } catch (err) {
        // A record the store refuses must not take the rest of its batch down with it: if a part
        // of the batch can be written, the store is up and the records that still fail, fail alone.
        if (batch.length > 1 && (await this.isolate(batch))) continue;
        this.fail(batch, err);
        // Only retries left: wait before trying again rather than spinning on a dead store.
        if (this.queue.every((e) => e.attempts > 0)) {
          if (this.queue.length > 0) this.retryLater();
          return;
        }
        continue;
      }
      await this.settle(batch, records);
    }
  }

  /** A written batch: signs a due checkpoint, then resumes the batch's callers. */
  private async settle(batch: Entry[], records: AuditRecord[]): Promise<void> {
    this.lastError = undefined;
    // A due checkpoint is signed before the batch's callers resume, so that a caller that saw its
    // record committed also sees the checkpoint that covers it (once every `every` records). The
    // first record of a log is signed at once, so that a log with a key and no checkpoint is a
    // failure for verify, never a young log.
    const last = records[records.length - 1];
    const due = last && (this.lastCheckpointSeq === 0 || last.seq - this.lastCheckpointSeq >= this.every);
    if (last && due && this.opts.signingKey) {
      try {
        await this.writeCheckpoint(this.opts.signingKey, last);
      } catch (err) {
        this.log.error('could not write an audit checkpoint', { error: err, seq: last.seq });
      }
    }
    batch.forEach((e, i) => e.resolve(records[i]));
  }

  /**
   * After `batch` failed as a whole: writes it again in halves, in order, recursing into a half
   * that fails while another part succeeds, and fails alone each record that cannot be written on
   * its own. Returns false, having written nothing, when no part of the batch could be written
   * (both halves failing is the store failing, not one record): the caller retries as usual.
   */
  private async isolate(batch: Entry[], storeAnswered = false): Promise<boolean> {
    const mid = Math.ceil(batch.length / 2);
    const halves = [batch.slice(0, mid), batch.slice(mid)];
    const failed: { part: Entry[]; err: unknown }[] = [];
    let answered = storeAnswered;
    for (const part of halves) {
      try {
        const records = await this.write(part);
        await this.settle(part, records);
        answered = true;
      } catch (err) {
        // Halves are written in order: a later half may commit before a failed earlier one is
        // isolated, which only reorders records that were sent in the same instant.
        failed.push({ part, err });
      }
    }
    if (!answered) {
      // Nothing got in: give the whole batch back to the caller, untouched.
      return false;
    }
    for (const { part, err } of failed) {
      if (part.length > 1) await this.isolate(part, true);
      else this.refuse(part[0]!, err);
    }
    return true;
  }

  /** One record the store refused while it accepted others: it fails alone and is not retried. */
  private refuse(e: Entry, err: unknown): void {
    const error = new StoreUnavailableError(`this audit record cannot be written: ${describe(err)}`, {
      cause: err,
    });
    this.log.error('audit record refused by the store', {
      error,
      event: e.input.event,
      tool: e.input.tool,
    });
    if (e.durable) e.reject(error);
    else {
      this.dropped += 1;
      e.resolve(undefined);
    }
  }

  private async write(batch: Entry[]): Promise<AuditRecord[]> {
    const items = batch.map((e) => ({ input: e.input, ts: e.ts }));
    if (this.store.appendAuditBatch)
      return this.store.appendAuditBatch(items, { durable: !batch.every((e) => e.relaxed) });
    const out: AuditRecord[] = [];
    for (const i of items) out.push(await this.store.appendAudit(i.input, i.ts));
    return out;
  }

  private fail(batch: Entry[], err: unknown): void {
    const error =
      err instanceof StoreUnavailableError
        ? err
        : new StoreUnavailableError(`audit append failed: ${(err as Error).message}`, { cause: err });
    this.lastError = error;
    const retry: Entry[] = [];
    let lost = 0;
    for (const e of batch) {
      if (e.durable) e.reject(error);
      else if (++e.attempts < MAX_ATTEMPTS) retry.push(e);
      else {
        lost++;
        e.resolve(undefined);
      }
    }
    this.dropped += lost;
    // Durable records queued while this batch was failing fail with it rather than wait for a batch
    // of their own against the same store: a governed write waits for the store at most one
    // call's timeout, then is refused.
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const e = this.queue[i]!;
      if (e.durable) {
        this.queue.splice(i, 1);
        e.reject(error);
      }
    }
    // Retried records go back in front so that the chain keeps the order they happened in.
    this.queue.unshift(...retry);
    this.log.error('audit append failed', { error, records: batch.length, dropped: lost });
  }

  private shed(): void {
    if (this.queue.length <= this.maxQueued) return;
    const i = this.queue.findIndex((e) => !e.durable);
    if (i < 0) return;
    const [e] = this.queue.splice(i, 1);
    e?.resolve(undefined);
    this.dropped += 1;
    this.log.error('audit queue is full; dropped the oldest queued record', { max_queued: this.maxQueued });
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.draining) void this.drain();
    }, RETRY_DELAY_MS);
    this.retryTimer.unref();
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async writeCheckpoint(
    key: SigningKey,
    head: { seq: number; hash: string },
  ): Promise<AuditCheckpoint> {
    const cp = signCheckpoint(key, head, this.clock.now().toISOString());
    await this.store.addCheckpoint(cp);
    this.lastCheckpointSeq = Math.max(this.lastCheckpointSeq, cp.seq);
    this.witnessCheckpoint(cp);
    return cp;
  }

  /**
   * Hands a checkpoint to the witness without making appenders wait for it: a slow or dead witness
   * costs tamper evidence for the tail, never a write. The next checkpoint covers everything before
   * it, so a missed one is made good by the next that gets through.
   */
  private witnessCheckpoint(cp: AuditCheckpoint): void {
    const witness = this.opts.witness;
    if (!witness) return;
    this.witnessing = this.witnessing.then(() =>
      witness.record(cp).then(
        () => {
          this.witnessError = undefined;
        },
        (err: unknown) => {
          this.witnessError = err as Error;
          this.log.error('could not hand an audit checkpoint to the witness', {
            error: err,
            seq: cp.seq,
            witness: witness.describe,
          });
        },
      ),
    );
  }
}

/** Why `input` could not be sealed as it is, or undefined when it can. */
function recordProblem(input: AuditInput): string | undefined {
  let size: number;
  try {
    // Sealing adds seq and ts; a few dozen bytes that the limit need not count.
    size = Buffer.byteLength(canonicalJson(input), 'utf8');
  } catch (err) {
    return `it cannot be written as canonical JSON (${describe(err)})`;
  }
  return size > MAX_RECORD_BYTES
    ? `the record would be ${size} bytes, more than ${MAX_RECORD_BYTES} (MAX_RECORD_BYTES)`
    : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
