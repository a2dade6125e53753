import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';
import { realBackends } from '../../src/providers/real-backends.js';
import { childProcessBindingScan } from '../../src/server/cluster-read-process.js';
import { commandLine, descendants } from '../fixtures/process-tree.js';

/**
 * The reaper's cluster scan in a child process, where it fails: a cluster it cannot read is a gap
 * for that environment (never an exception that would stop the reaper's pass), a scan that takes
 * too long or is stopped leaves no process, and between scans the clusters are not read again.
 * The scans that find bindings are in test/tools/access/reaper-scan-process.test.ts.
 */
const dir = mkdtempSync(join(tmpdir(), 'day2-scan-child-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, 'day2.yaml'),
  [
    'environments:',
    '  east-1:',
    '    tier: production',
    '    kubernetes:',
    '      kubeconfig: missing-kubeconfig.yaml',
    '      namespaces: [ledger, payouts]',
    '  west-2:',
    '    tier: development',
  ].join('\n'),
);
const loaded = loadConfig({ path: join(dir, 'day2.yaml'), env: {} });
const redactor = new Redactor();
const log = createLogger({ redactor, level: 'error', sink: () => undefined });
const backends = realBackends({
  config: loaded.config,
  baseDir: loaded.baseDir,
  env: process.env,
  log,
  redactor,
});
const connection = { config: loaded.config, baseDir: loaded.baseDir, env: process.env };
const envs = Object.keys(loaded.config.environments);
/** This process's scan children (the process reaper's shell, started on first use, stays). */
const scanChildren = () =>
  descendants(process.pid).filter((p) => commandLine(p).includes('cluster-read-child'));

describe('the cluster scan in a child process', () => {
  it(
    'reports a cluster it cannot read as a gap of that environment, per namespace',
    { timeout: 60_000 },
    async () => {
      const scan = childProcessBindingScan({ backends, connection, log });
      const r = await scan(envs, new AbortController().signal);
      expect(r?.bindings).toEqual([]);
      expect(
        r?.gaps.map((g) => g.env),
        JSON.stringify(r),
      ).toEqual(['east-1', 'east-1']);
      expect(r?.gaps.map((g) => g.error.split(':')[0]).sort()).toEqual(['ledger', 'payouts']);
      expect(r?.gaps[0]?.error).toMatch(/missing-kubeconfig\.yaml/);
      // Within the interval the clusters are not read again: the store's grants are reaped alone.
      expect(await scan(envs, new AbortController().signal)).toBeUndefined();
    },
  );

  it('takes the bindings read at start-up for its first pass, starting no child', async () => {
    const first = {
      bindings: [],
      gaps: [{ env: 'east-1', error: 'read at start-up' }],
    };
    const scan = childProcessBindingScan({ backends, connection, log, first });
    const pending = scan(envs, new AbortController().signal);
    expect(scanChildren()).toEqual([]);
    expect(await pending).toBe(first);
    expect(await scan(envs, new AbortController().signal)).toBeUndefined();
  });

  it('reads nothing, and starts nothing, where no environment has Kubernetes', async () => {
    const scan = childProcessBindingScan({ backends, connection, log });
    expect(await scan(['west-2'], new AbortController().signal)).toEqual({ bindings: [], gaps: [] });
    expect(scanChildren()).toEqual([]);
  });

  it('ends a scan that takes too long, and says so', { timeout: 60_000 }, async () => {
    const scan = childProcessBindingScan({ backends, connection, log, timeoutMs: 50 });
    const r = await scan(envs, new AbortController().signal);
    expect(r?.gaps).toEqual([{ env: 'east-1', error: 'cluster scan process: did not finish within 0.05 s' }]);
    expect(scanChildren()).toEqual([]);
  });

  it('ends the scan when the reaper stops', { timeout: 60_000 }, async () => {
    const scan = childProcessBindingScan({ backends, connection, log });
    const stop = new AbortController();
    const pending = scan(envs, stop.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(scanChildren().length).toBeGreaterThan(0);
    stop.abort();
    const r = await pending;
    expect(r?.bindings).toEqual([]);
    expect(scanChildren()).toEqual([]);
  });
});
