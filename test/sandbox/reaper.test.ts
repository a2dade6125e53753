import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { descendants, running } from '../fixtures/process-tree.js';

const OWNER = fileURLToPath(new URL('./fixtures/reaper-owner.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The reaper ends what its owner started however the owner ends, SIGKILL included: the whole
// process group, a wrapper's children too (Debian's /bin/sh is dash, whose kill takes no "--").
describe('the reaper', () => {
  it('ends a registered process group, grandchildren included, and removes its folder after a SIGKILL', async () => {
    const owner = spawn(process.execPath, ['--import', 'tsx', OWNER], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { leader, dir } = await new Promise<{ leader: number; dir: string }>((resolve, reject) => {
      createInterface({ input: owner.stdout }).once('line', (l) =>
        resolve(JSON.parse(l) as { leader: number; dir: string }),
      );
      owner.once('exit', (c) => reject(new Error(`the owner exited (${c}) before it was ready`)));
    });
    // The wrapper's own child: what `kill <leader>` alone would leave running.
    let grandchildren: number[] = [];
    for (let i = 0; i < 50 && grandchildren.length === 0; i++) {
      grandchildren = descendants(leader);
      await sleep(50);
    }
    expect(grandchildren.length).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(true);

    owner.kill('SIGKILL');
    const gone = () => !running(leader) && grandchildren.every((p) => !running(p)) && !existsSync(dir);
    for (let i = 0; i < 50 && !gone(); i++) await sleep(100);
    const left = [leader, ...grandchildren].filter(running);
    // Never leave them to the next test, whatever the verdict.
    for (const p of left) process.kill(p, 'SIGKILL');
    expect(left).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 20_000);
});
