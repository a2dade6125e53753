import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSecretsManagerEmulator,
  type SecretsManagerEmulator,
} from '../../src/sandbox/secrets-manager/index.js';
import { createSecretsManagerProvider } from '../../src/providers/secrets-manager/aws-provider.js';
import { resilient, retryDelay } from '../../src/providers/resilient.js';
import { BackendError } from '../../src/providers/errors.js';
import { startKubernetesEmulator } from '../../src/sandbox/kubernetes/emulator.js';
import { deploymentObject } from '../../src/sandbox/kubernetes/builders.js';
import { createKubernetesProvider } from '../../src/providers/kubernetes/create-kubernetes-provider.js';
import type { SecretsManagerProvider } from '../../src/providers/secrets-manager/types.js';
import { Redactor } from '../../src/core/redact.js';

/**
 * resilient() over the real Secrets Manager provider (official SDK client) against the emulator
 * with injected faults: reads are retried on 503 and 429, honouring Retry-After; writes never are.
 */

let emu: SecretsManagerEmulator;
let waits: number[];
let provider: SecretsManagerProvider;

beforeAll(async () => {
  emu = await startSecretsManagerEmulator({
    region: 'eu-west-1',
    secrets: [{ name: 'prod/app/db', value: '{"password":"x"}' }],
  });
});

afterAll(async () => {
  await emu.close();
});

function wrapped(retries = 3): SecretsManagerProvider {
  waits = [];
  const raw = createSecretsManagerProvider({
    redactor: new Redactor(),
    region: 'eu-west-1',
    endpoint: emu.url,
    credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
    timeoutMs: 5000,
  });
  return resilient(raw, {
    backend: 'secrets-manager',
    retries,
    timeoutMs: 5000,
    // Waits are recorded, not slept: the test asserts the policy, not the clock.
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
  });
}

describe('resilient', () => {
  it('retries a read on 503 and then succeeds', async () => {
    emu.faults.clear();
    emu.faults.add({ kind: 'status', status: 503, path: '/', times: 2 });
    provider = wrapped();
    const meta = await provider.describeSecret('prod/app/db');
    expect(meta.name).toBe('prod/app/db');
    expect(waits).toHaveLength(2);
    // Exponential: the second wait is twice the first (same jitter draw).
    expect(waits[1]).toBe(waits[0]! * 2);
  });

  it('gives up after the configured retries with the backend error', async () => {
    emu.faults.clear();
    emu.faults.add({ kind: 'status', status: 503, path: '/' });
    provider = wrapped(2);
    const err = await provider.listSecrets('prod/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).kind).toBe('unavailable');
    expect(waits).toHaveLength(2);
    emu.faults.clear();
  });

  it('honours Retry-After on 429 (Kubernetes provider, client-node)', async () => {
    const kube = await startKubernetesEmulator({
      objects: [deploymentObject('shop', 'api', 'registry.test/api:1.0.0')],
    });
    try {
      const raw = await createKubernetesProvider({
        kubeConfig: await kube.kubeConfig(),
        namespaces: ['shop'],
        timeoutMs: 5000,
      });
      const seen: number[] = [];
      const k = resilient(raw, {
        backend: 'kubernetes',
        retries: 3,
        timeoutMs: 5000,
        sleep: (ms) => {
          seen.push(ms);
          return Promise.resolve();
        },
      });
      kube.faults.add({ kind: 'throttle', retryAfterSeconds: 3, times: 1 });
      const d = await k.getDeployment('shop', 'api');
      expect(d.name).toBe('api');
      expect(seen).toEqual([3000]);
    } finally {
      await kube.close();
    }
  });

  it('caps a long Retry-After', () => {
    const err = new BackendError('datadog', 'throttled', 'slow down', { retryAfterMs: 120_000 });
    expect(retryDelay(err, 1, { backend: 'datadog', retries: 3, timeoutMs: 1000 })).toBe(10_000);
  });

  it('does not retry writes', async () => {
    emu.faults.clear();
    emu.faults.add({ kind: 'status', status: 503, path: '/', times: 1 });
    provider = wrapped();
    const err = await provider.tagResource('prod/app/db', { owner: 'x' }).catch((e: unknown) => e);
    expect((err as BackendError).kind).toBe('unavailable');
    expect(waits).toEqual([]);
    expect(emu.writes.filter((w) => w.op === 'TagResource')).toHaveLength(0);
    // The next call reaches the backend: the fault was used up by the single attempt.
    await provider.tagResource('prod/app/db', { owner: 'x' });
    expect(emu.writes.filter((w) => w.op === 'TagResource')).toHaveLength(1);
  });

  it('does not retry errors that are not transient', async () => {
    emu.faults.clear();
    provider = wrapped();
    const err = await provider.describeSecret('prod/missing').catch((e: unknown) => e);
    expect((err as BackendError).kind).toBe('not_found');
    expect(waits).toEqual([]);
  });
});
