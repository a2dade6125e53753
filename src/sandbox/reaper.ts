import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * What a process leaves behind if it dies without cleaning up: the process groups it started and
 * the folders it made. Node has no PR_SET_PDEATHSIG, and a SIGKILL runs no handler, so these are
 * handed to a reaper: a small shell, started detached in its own session, that holds the read end
 * of a pipe from this process. The kernel closes that pipe however this process ends; at EOF the
 * reaper sends SIGTERM to every registered process group, SIGKILL after 3 s to any still alive, and
 * removes every registered folder. A clean shutdown forgets what it has already stopped, so the
 * reaper has nothing left to do.
 */
export interface Reaper {
  /**
   * Ends the process group that `pid` leads (spawn it with `detached: true`) if this process dies
   * first. Returns the call that forgets it: make it once the process has exited.
   */
  watchProcess(pid: number): () => void;
  /** Removes `path` (recursively) if this process dies first. Returns the call that forgets it. */
  watchDir(path: string): () => void;
}

// Lines on stdin: `pid N`, `unpid N`, `dir PATH`, `undir PATH`. EOF: the owner is gone.
// INT and HUP are ignored: a Ctrl-C or a closed terminal ends the owner, which ends the reaper.
const REAPER_SCRIPT = `
trap '' INT HUP
pids=''
dirs=''
while IFS= read -r line; do
  op=\${line%% *}
  arg=\${line#* }
  case "$op" in
    pid) pids="$pids $arg" ;;
    unpid) kept=''; for p in $pids; do [ "$p" = "$arg" ] || kept="$kept $p"; done; pids=$kept ;;
    dir) dirs="$dirs
$arg" ;;
    undir) dirs=$(printf '%s\\n' "$dirs" | grep -vxF -- "$arg") ;;
  esac
done
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  read -r _ _ state _ < "/proc/$1/stat" 2>/dev/null || return 1
  [ "$state" != Z ]
}
# "kill -SIG -PGID", without "--": dash (Debian's /bin/sh) takes no "--" and would signal nobody.
for p in $pids; do kill -TERM "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
i=0
while [ $i -lt 30 ]; do
  left=''
  for p in $pids; do alive "$p" && left=1; done
  [ -z "$left" ] && break
  sleep 0.1
  i=$((i + 1))
done
for p in $pids; do kill -KILL "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
printf '%s\\n' "$dirs" | while IFS= read -r d; do [ -n "$d" ] && rm -rf -- "$d"; done
exit 0
`;

/** A reaper over a pipe to a detached shell; see Reaper. */
class ShellReaper implements Reaper {
  private pipe: Writable | undefined;

  private send(line: string): void {
    if (!this.pipe) {
      const child = spawn('/bin/sh', ['-c', REAPER_SCRIPT], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      // The reaper must never keep this process alive; its pipe closes when this process ends.
      child.unref();
      const stdin = child.stdin;
      (stdin as Writable & { unref?: () => void }).unref?.();
      stdin.on('error', () => undefined);
      child.on('error', () => undefined);
      this.pipe = stdin;
    }
    this.pipe.write(`${line}\n`);
  }

  watchProcess(pid: number): () => void {
    return this.register('pid', String(pid));
  }

  watchDir(path: string): () => void {
    if (path.includes('\n')) throw new Error('a folder the reaper removes cannot have a newline in its name');
    return this.register('dir', path);
  }

  /** Sends `what arg` now and `unwhat arg` on the first call of the function it returns. */
  private register(what: 'pid' | 'dir', arg: string): () => void {
    this.send(`${what} ${arg}`);
    let forgotten = false;
    return () => {
      if (forgotten) return;
      forgotten = true;
      this.send(`un${what} ${arg}`);
    };
  }
}

let reaper: ShellReaper | undefined;

/**
 * This process's reaper, started on first use. One per process by nature: it watches this
 * process's lifetime, whichever part of it started the children.
 */
export function processReaper(): Reaper {
  return (reaper ??= new ShellReaper());
}

/** A folder under the temporary directory that the reaper removes if this process dies first. */
export async function reapedTempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const forget = processReaper().watchDir(path);
  return {
    path,
    async remove() {
      await rm(path, { recursive: true, force: true });
      forget();
    },
  };
}
