import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { keyIdOf } from '../../src/guards/audit-verify.js';
import { openStore } from '../../src/store/open-store.js';
import { inMemoryClient, testRuntime } from '../fixtures/in-memory.js';
import { runCli } from '../fixtures/run-cli.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { makeTestTools } from '../fixtures/test-tools.js';
import { issuedToken } from '../fixtures/approval-token.js';

/**
 * Where the checkpoint key lives: by default not beside the store (whoever rewrites the store
 * must not be able to re-sign it), `day2 audit verify` needs only the public key, and a key left
 * at the old default still works while `day2 config check` warns about it.
 */
describe('audit keys and witnesses that cannot be read back', () => {
  let t: TestEnv;
  let configHome: string;
  const savedXdg = process.env.XDG_CONFIG_HOME;

  const writeConfig = (audit: Record<string, unknown>) => {
    writeFileSync(
      t.configPath,
      stringify({ environments: { staging: { tier: 'staging' } }, audit: { checkpoint_every: 5, ...audit } }),
    );
  };
  /** One approved write through a real MCP client; the server then stops (a closing checkpoint). */
  const oneWrite = async () => {
    const rt = await testRuntime(t, makeTestTools(t.backendFile));
    const client = await inMemoryClient(rt);
    const args = { env: 'staging', target: 'web', value: 'v2' };
    const asked = (await client.callTool({ name: 'test_write', arguments: args })).structuredContent as {
      approval_id: string;
    };
    const approved = await rt.approvals.approve(asked.approval_id, 'alice', { channel: 'cli' });
    await client.callTool({
      name: 'test_write',
      arguments: { ...args, approval_token: await issuedToken(rt.approvals, approved) },
    });
    await client.close();
    await rt.close();
  };
  const verify = () => runCli(['audit', 'verify', '--config', t.configPath], t.env);

  beforeEach(() => {
    t = makeTestEnv();
    configHome = mkdtempSync(join(tmpdir(), 'day2-xdg-'));
    process.env.XDG_CONFIG_HOME = configHome;
    t.env.XDG_CONFIG_HOME = configHome;
  });
  afterEach(() => {
    if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = savedXdg;
    rmSync(configHome, { recursive: true, force: true });
    t.cleanup();
  });

  it('creates the private key away from the store, and verify needs only the public key', async () => {
    writeConfig({});
    await oneWrite();
    const privateKey = join(configHome, 'day2', 'audit-signing.pem');
    const publicKey = join(configHome, 'day2', 'audit-signing.pub.pem');
    expect(existsSync(privateKey)).toBe(true);
    expect(readdirSync(dirname(t.storePath)).filter((f) => f.endsWith('.pem'))).toEqual([]);

    // Verify where the private key is not: only audit.verify_key.
    renameSync(privateKey, join(configHome, 'elsewhere.pem'));
    writeConfig({ verify_key: publicKey });
    const ok = await verify();
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^audit log intact: \d+ records, [1-9]\d* signed checkpoints\n$/);

    const other = join(t.dir, 'other.pub.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    writeConfig({ verify_key: other });
    const wrong = await verify();
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(
      /^audit log BROKEN at seq 1: the checkpoint at seq 1 is signed by an unknown key/,
    );
  });

  it('keeps using a key left beside the store, and config check warns about it', async () => {
    const legacy = join(dirname(t.storePath), 'audit-signing.pem');
    mkdirSync(dirname(legacy), { recursive: true });
    const pair = generateKeyPairSync('ed25519');
    writeFileSync(legacy, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeConfig({});
    await oneWrite();
    const store = await openStore(t.storePath);
    try {
      const cps = await store.checkpoints();
      expect(cps.length).toBeGreaterThan(0);
      expect(cps.every((c) => c.key_id === keyIdOf(pair.publicKey))).toBe(true);
    } finally {
      await store.close();
    }
    expect(existsSync(join(configHome, 'day2', 'audit-signing.pem'))).toBe(false);
    expect((await verify()).code).toBe(0);

    const check = await runCli(['config', 'check', '--config', t.configPath], t.env);
    expect(check.code).toBe(0);
    expect(check.stderr).toContain(
      `warning: audit.signing_key_file: the signing key ${legacy} sits beside the store`,
    );
    expect(check.stderr).toMatch(/warning: audit\.witness: not set/);
  });

  it('POSTs each signed checkpoint to a webhook witness, and verify says it cannot read it back', async () => {
    const received: { checkpoint: { seq: number; hash: string; signature: string } }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        expect(req.headers.authorization).toBe('Bearer witness-secret-token');
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    process.env.DAY2_TEST_WITNESS_TOKEN = 'witness-secret-token';
    t.env.DAY2_TEST_WITNESS_TOKEN = 'witness-secret-token';
    try {
      writeConfig({
        witness: {
          webhook: { url: `http://127.0.0.1:${port}/witness`, token_env: 'DAY2_TEST_WITNESS_TOKEN' },
        },
      });
      await oneWrite();
      const store = await openStore(t.storePath);
      const cps = await store.checkpoints();
      await store.close();
      expect(received.map((r) => r.checkpoint.seq)).toEqual(cps.map((c) => c.seq));
      expect(received.at(-1)!.checkpoint.signature).toBe(cps.at(-1)!.signature);

      const r = await verify();
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(
        /warning: the witness webhook http:\/\/127\.0\.0\.1:\d+\/witness cannot be read back; compare the head it received last with this log's: seq \d+ hash [0-9a-f]{64}/,
      );
      expect(r.stdout + r.stderr).not.toContain('witness-secret-token');
    } finally {
      delete process.env.DAY2_TEST_WITNESS_TOKEN;
      await new Promise((r) => server.close(r));
    }
  });

  it('a directory witness keeps one append-only file a day that verify reads', async () => {
    const dir = join(t.dir, 'witness-volume');
    writeConfig({ witness: { directory: dir } });
    await oneWrite();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^checkpoints-\d{4}-\d{2}-\d{2}\.jsonl$/);
    const r = await verify();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/witness directory .*witness-volume: [1-9]\d* checkpoints up to seq \d+/);
  });
});
