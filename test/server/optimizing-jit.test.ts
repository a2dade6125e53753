import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from '../fixtures/test-env.js';

/**
 * `day2 serve` starts without V8's optimizing compilers and turns them on again once it is ready
 * (optimizing-jit.ts). Whether V8 optimizes is asked of V8 itself, in a process of its own
 * (test/fixtures/jit-probe.ts): a function marked for optimization is optimized before the pause,
 * not during it and again after it; a user's own compiler flags are never overridden.
 */
const run = promisify(execFile);

// Where V8 has Maglev on by default (x64, arm64) the pause happens; elsewhere it is refused, and
// the compilers stay on throughout.
const pauses = process.arch === 'x64' || process.arch === 'arm64';

describe('the optimizing compilers during start-up', () => {
  it(
    'are off while paused, on again after, and left alone where the user chose',
    { timeout: 30_000 },
    async () => {
      const { stdout } = await run(
        process.execPath,
        ['--allow-natives-syntax', '--import', 'tsx', 'test/fixtures/jit-probe.ts'],
        { cwd: REPO, env: { ...process.env, NODE_OPTIONS: '' } },
      );
      expect(JSON.parse(stdout)).toEqual({
        before: true,
        refusedForUserFlag: true,
        refusedForNodeOptions: true,
        refusedForEverySpelling: true,
        stillOn: true,
        paused: pauses,
        during: !pauses,
        after: true,
      });
    },
  );
});
