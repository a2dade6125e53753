import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import { releaseStartupMemory, trimWhenIdle } from '../../src/server/idle-trim.js';
import { createLogger } from '../../src/core/log.js';
import { Redactor } from '../../src/core/redact.js';

const newSpace = () =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.physical_space_size;

describe('releaseStartupMemory', () => {
  it('collects once settled, shrinks the young generation and logs the resident set', async () => {
    const lines: string[] = [];
    const log = createLogger({ redactor: new Redactor(), level: 'debug', sink: (l) => lines.push(l) });
    // Start-up-like churn: objects that survive a few scavenges and then die.
    let keep: unknown[] = [];
    for (let i = 0; i < 300_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
    const before = newSpace();

    releaseStartupMemory(log, { delayMs: 0 });
    await vi.waitFor(() => expect(lines.join('\n')).toContain('released start-up memory'));

    const entry = JSON.parse(lines.find((l) => l.includes('released start-up memory'))!) as Record<
      string,
      number
    >;
    expect(entry.rss_mb_before).toBeGreaterThan(0);
    expect(entry.rss_mb_after).toBeGreaterThan(0);
    // The churn above grew the young generation; the collection gives most of it back.
    expect(before).toBeGreaterThan(4 * 1048576);
    expect(newSpace()).toBeLessThan(before / 4);
    expect(keep).toHaveLength(0);
    // The collector was borrowed from a fresh context: this one never gains a global `gc`.
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});

describe('trimWhenIdle', () => {
  it('collects once after a busy spell has gone quiet, and not again until the next request', async () => {
    const lines: string[] = [];
    const log = createLogger({ redactor: new Redactor(), level: 'debug', sink: (l) => lines.push(l) });
    const trims = () => lines.filter((l) => l.includes('released memory after a busy spell')).length;
    const idle = trimWhenIdle(log, 40);
    try {
      // No request yet: nothing to give back.
      await new Promise((r) => setTimeout(r, 120));
      expect(trims()).toBe(0);
      // Requests every 10 ms keep it from running.
      for (let i = 0; i < 8; i++) {
        idle.touch();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(trims()).toBe(0);
      await vi.waitFor(() => expect(trims()).toBe(1), { timeout: 2000 });
      const entry = JSON.parse(lines.find((l) => l.includes('busy spell'))!) as Record<string, number>;
      expect(entry.rss_mb_after).toBeGreaterThan(0);
      // Quiet on: no second collection without a request in between.
      await new Promise((r) => setTimeout(r, 150));
      expect(trims()).toBe(1);
      idle.touch();
      await vi.waitFor(() => expect(trims()).toBe(2), { timeout: 2000 });
    } finally {
      idle.stop();
    }
  });
});
