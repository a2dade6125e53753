import { describe, expect, it } from 'vitest';
import { gather } from '../../../src/tools/context/gather.js';

// Backend SDKs load on first use (src/providers/sdk-loads.ts). The Kubernetes client, ESM over a
// few hundred files, takes about a second to import: that is not the backend being slow, and
// must not spend a read's timeout.
// This file imports no SDK, so the first read below is the first use in its process.
describe('a read whose SDK is not loaded yet', () => {
  it('gets its whole timeout after the SDK has loaded', async () => {
    const started = performance.now();
    const { results, gaps } = await gather(
      [
        {
          backend: 'kubernetes',
          env: 'prod',
          // What a provider's first call does: it imports the client, then asks the backend.
          run: async () => {
            await import('@kubernetes/client-node');
            // The backend answers in 10 ms.
            await new Promise((r) => setTimeout(r, 10));
            return 'answered';
          },
        },
      ],
      100,
    );
    expect(gaps).toEqual([]);
    expect(results.map((r) => r.value)).toEqual(['answered']);
    // The import did take longer than the timeout: the bound started after it.
    expect(performance.now() - started).toBeGreaterThan(100);
  });

  it('still bounds the backend itself', async () => {
    const { results, gaps } = await gather(
      [{ backend: 'kubernetes', env: 'prod', run: () => new Promise<string>(() => undefined) }],
      100,
    );
    expect(results).toEqual([]);
    expect(gaps).toEqual([
      {
        backend: 'kubernetes',
        env: 'prod',
        reason: expect.stringMatching(/did not answer within 100 ms/) as string,
      },
    ]);
  });
});
