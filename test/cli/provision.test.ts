import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../fixtures/test-env.js';

/**
 * scripts/provision, which `npm test` runs first: it needs root only for what is missing, and says
 * what to run as root when it is not. It runs here as an unprivileged user (nobody, when the tests
 * run as root) with a `sudo` that refuses, read from stdin so that the clone's folder need not be
 * readable by that user.
 */

const script = readFileSync(join(REPO, 'scripts', 'provision'), 'utf8');
const stub = mkdtempSync(join(tmpdir(), 'day2-provision-test-'));
chmodSync(stub, 0o755);
writeFileSync(join(stub, 'sudo'), '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n', {
  mode: 0o755,
});

afterAll(() => rmSync(stub, { recursive: true, force: true }));

function provisionUnprivileged(env: Record<string, string> = {}) {
  const vars = [
    `PATH=${stub}:/usr/local/bin:/usr/bin:/bin`,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
  ];
  const [cmd, args] =
    process.getuid?.() === 0
      ? ['runuser', ['-u', 'nobody', '--', 'env', ...vars, 'bash', '-s']]
      : ['env', [...vars, 'bash', '-s']];
  return spawnSync(cmd, args, { input: script, cwd: stub, encoding: 'utf8', timeout: 60_000 });
}

describe('scripts/provision', () => {
  it('on a provisioned machine needs no root and changes nothing', () => {
    const r = provisionUnprivileged();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('without root, stops at what is missing and prints the command to run as root', () => {
    const r = provisionUnprivileged({ DAY2_PG_MAJOR: '99' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('provision: needs root: installing postgresql-99 postgresql-99-hypopg');
    expect(r.stderr).toContain(
      'provision: run as root:  apt-get update && apt-get install -y --no-install-recommends postgresql-99 postgresql-99-hypopg',
    );
  });

  it('is what `npm test` runs first, and .ci/run runs `npm test`', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.test).toBe('scripts/provision && vitest run');
    const ci = readFileSync(join(REPO, '.ci', 'run'), 'utf8');
    expect(ci.split('\n').filter((l) => /^npm (test|run test)\b/.test(l))).toEqual(['npm test']);
  });
});
