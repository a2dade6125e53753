import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../core/log.js';

type Gc = (opts: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Gives back the memory start-up used, once. Loading modules and building the registry grows V8's
 * young generation to several times what a settled server needs, and V8 keeps it until memory
 * pressure says otherwise — which never comes on an idle stdio server sitting on a laptop.
 * One memory-reducing collection (V8's "last resort" GC, which also shrinks the young
 * generation) pauses the process once: about 80 ms to return roughly 12 MB on a plain server,
 * about 250 ms to take the sandbox (emulators holding the demo fleet) from 415 to 260 MB. It runs
 * `delayMs` after the backends are ready, when a stdio client is still reading the tool list;
 * skipped, with a debug line, where the runtime refuses.
 */
export function releaseStartupMemory(log: Logger, opts: { delayMs?: number; then?: () => void } = {}): void {
  setTimeout(() => {
    setImmediate(() => {
      release(log, 'start-up memory');
      opts.then?.();
    });
  }, opts.delayMs ?? 1000).unref();
}

/**
 * Gives back what a busy spell grew, once the server has been quiet for `idleMs`: after a burst of
 * calls V8 keeps its enlarged young generation and the freed old-generation pages, and a service
 * that serves a few bursts a day would hold its peak for the rest of it. Each request `touch`es;
 * once no request has come for `idleMs`, one memory-reducing collection runs (as at start-up),
 * and none again until the next request. It never runs while requests keep coming.
 */
export function trimWhenIdle(log: Logger, idleMs = 30_000): { touch(): void; stop(): void } {
  let last = 0;
  let busySinceTrim = false;
  const timer = setInterval(
    () => {
      if (!busySinceTrim || performance.now() - last < idleMs) return;
      busySinceTrim = false;
      release(log, 'memory after a busy spell');
    },
    Math.max(10, Math.min(idleMs / 2, 5000)),
  );
  timer.unref();
  return {
    touch() {
      last = performance.now();
      busySinceTrim = true;
    },
    stop: () => clearInterval(timer),
  };
}

/** One memory-reducing collection, with the resident set before and after in a debug line. */
function release(log: Logger, what: string): void {
  try {
    const before = process.memoryUsage.rss();
    const started = performance.now();
    collectAllGarbage();
    log.debug(`released ${what}`, {
      rss_mb_before: mb(before),
      rss_mb_after: mb(process.memoryUsage.rss()),
      duration_ms: Math.round(performance.now() - started),
    });
  } catch (err) {
    log.debug(`could not release ${what}`, { error: err });
  }
}

function collectAllGarbage(): void {
  // `gc` is only handed to contexts created while --expose-gc is set; the flag is cleared again
  // at once so that no other context gets it.
  setFlagsFromString('--expose-gc');
  let gc: Gc;
  try {
    gc = runInNewContext('gc') as Gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
