import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';

/**
 * V8's optimizing compilers (Maglev and TurboFan) off while a server starts, on again once it is
 * ready. Start-up code runs once or a few times (module bodies, schema building, the catalog's
 * YAML), so optimizing it buys nothing, but the compilers do it on background threads whose
 * memory the C allocator keeps: measured on `serve --sandbox`, 12–15 MB of an idle server's
 * resident set (91–96 MB with them, 78–80 MB without). The baseline compiler stays on, and every
 * function that gets hot after start-up is optimized as usual.
 *
 * Only for `day2 serve` run as a process (the CLI entry calls pause), and never when the user
 * has chosen V8's compilers themselves (`--jitless`, `--no-opt`, `--max-opt`, `--maglev`, ... in
 * `execArgv` or NODE_OPTIONS in `env`): day2 does not override such a choice.
 */
let paused = false;

// Any flag about V8's tiers, in each spelling V8 takes: --no-maglev, --nomaglev, --no_maglev,
// --always-turbofan, --max-opt=2, --noopt, --lite-mode, --jitless, ...
const COMPILER_FLAG =
  /^--[\w-]*(jitless|maglev|turbofan|sparkplug|lite[-_]mode)|^--(no[-_]?)?(always[-_]|max[-_])?opt([=_-]|$)/;

/** Turns the optimizing compilers off for start-up; false (and nothing changed) where not allowed. */
export function pauseOptimizingJit(execArgv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (paused) return true;
  // Where V8 has Maglev on by default; elsewhere "on again" would not be what it was.
  if (process.arch !== 'x64' && process.arch !== 'arm64') return false;
  const userFlags = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (userFlags.some((f) => COMPILER_FLAG.test(f))) return false;
  try {
    setFlagsFromString('--no-maglev');
    setFlagsFromString('--no-turbofan');
    paused = true;
  } catch {
    // A runtime that refuses leaves the compilers as they were.
  }
  return paused;
}

/** Turns them on again; nothing when pauseOptimizingJit did not turn them off. Idempotent. */
export function resumeOptimizingJit(): void {
  if (!paused) return;
  paused = false;
  setFlagsFromString('--maglev');
  setFlagsFromString('--turbofan');
}

/** Whether start-up has them off (for tests and the debug log). */
export function optimizingJitPaused(): boolean {
  return paused;
}

/**
 * The start of a `day2 serve` process: the optimizing compilers paused, and Node's compile cache
 * on, in a folder of its own while they are paused. V8's code cache records the compiler flags it
 * was made with, so a paused server and the commands that run with them on (`day2 sandbox`, which
 * `serve --sandbox` starts, the reaper's scan, `day2 approve`) would each reject and rewrite the
 * other's entries on every start.
 */
export function startServeProcess(execArgv: readonly string[], env: NodeJS.ProcessEnv): void {
  const paused = pauseOptimizingJit(execArgv, env);
  if (!paused) {
    enableCompileCache?.();
    return;
  }
  const base = env.NODE_COMPILE_CACHE?.trim() || join(tmpdir(), 'node-compile-cache');
  enableCompileCache?.(join(base, 'day2-serve'));
}
