import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { REDACTED } from '../../src/core/redact.js';
import { createSecretsManagerProvider } from '../../src/providers/secrets-manager/index.js';
import {
  startSecretsManagerEmulator,
  type SecretsManagerEmulator,
} from '../../src/sandbox/secrets-manager/index.js';
import { startHarness, type TestHarness } from '../fixtures/in-memory-runtime.js';

const SECRET = 'only-runtime-a-read-Kx82QmT7';

// Known secrets belong to a runtime, not to the process: a secret one runtime's provider handled is
// masked in everything that runtime sends and records, and another runtime in the same process
// (another test, a second server) neither learns it nor masks it.
describe('two runtimes in one process', () => {
  let emu: SecretsManagerEmulator;
  let a: TestHarness;
  let b: TestHarness;

  beforeAll(async () => {
    emu = await startSecretsManagerEmulator({
      clock: new ManualClock(),
      secrets: [{ name: 'prod/app/api-key', value: SECRET }],
    });
    [a, b] = await Promise.all([startHarness(), startHarness()]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await emu?.close();
  });

  it('do not share known secrets', async () => {
    // Runtime A's Secrets Manager provider reads the secret, registering it with A's redactor.
    const provider = createSecretsManagerProvider({
      redactor: a.rt.deps.redactor,
      region: 'us-east-1',
      endpoint: emu.url,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-key' },
    });
    try {
      expect((await provider.getSecretValue('prod/app/api-key')).value).toBe(SECRET);
    } finally {
      provider.close();
    }
    expect(a.rt.deps.redactor).not.toBe(b.rt.deps.redactor);

    const args = { env: 'staging', target: 'web', value: `set to ${SECRET}`, dry_run: true };
    const fromA = await (await a.connect()).callTool({ name: 'test_write', arguments: args });
    const fromB = await (await b.connect()).callTool({ name: 'test_write', arguments: args });
    // What a model reads (the text) and the plan an approver is shown.
    const seen = (r: typeof fromA) =>
      JSON.stringify([r.content, (r.structuredContent as { plan?: unknown } | undefined)?.plan]);
    expect(fromA.isError).toBeFalsy();
    expect(seen(fromA)).not.toContain(SECRET);
    expect(seen(fromA)).toContain(REDACTED);
    // B never handled it: to B it is an ordinary value.
    expect(seen(fromB)).toContain(SECRET);

    await Promise.all([a.rt.auditLog.flush(), b.rt.auditLog.flush()]);
    const audited = async (h: TestHarness) =>
      (await h.rt.deps.store.queryAudit({ tool: 'test_write', limit: 10 })).map((r) => r.record).join('\n');
    const auditA = await audited(a);
    expect(auditA).toContain(`set to ${REDACTED}`);
    expect(auditA).not.toContain(SECRET);
    expect(await audited(b)).toContain(SECRET);
  });
});
