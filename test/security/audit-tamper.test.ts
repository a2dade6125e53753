import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadOrCreateSigningKey, signCheckpoint } from '../../src/guards/audit-log.js';
import { publicKeyFromFile, verifyAudit } from '../../src/guards/audit-verify.js';
import { sealAudit } from '../../src/store/audit-chain.js';
import type { AuditInput, Store } from '../../src/store/store.js';
import { allAudit } from '../fixtures/audit-records.js';
import { inMemoryClient, testRuntime } from '../fixtures/in-memory.js';
import { runCli } from '../fixtures/run-cli.js';
import { makeTestEnv, type TestEnv } from '../fixtures/test-env.js';
import { makeTestTools } from '../fixtures/test-tools.js';
import { backends, PG_URL, type TestBackend } from '../store/fixtures/backends.js';
import { issuedToken } from '../fixtures/approval-token.js';

/**
 * The four tamperings of issue item 3, each by someone who holds the store and the signing key
 * that (in the old default) sat beside it. A witness outside the store (a file on another volume
 * for SQLite, another PostgreSQL role for PostgreSQL) keeps the signed checkpoints, and the real
 * `day2 audit verify` must name the first missing or changed seq.
 */
describe.each(backends)('audit tampering that verify must catch: $name', (factory) => {
  let backend: TestBackend;
  let t: TestEnv;
  let keyPath: string;
  let witnessDir: string;
  let witnessConfig: Record<string, unknown>;
  let dropWitness: () => Promise<void> = () => Promise.resolve();
  let store: Store;

  /** Three approved writes and some refusals, through a real MCP client; then the server stops. */
  async function history(): Promise<void> {
    const rt = await testRuntime(t, makeTestTools(t.backendFile));
    const client = await inMemoryClient(rt);
    for (const target of ['web', 'api', 'worker']) {
      const args = { env: 'staging', target, value: `v-${target}` };
      const asked = (await client.callTool({ name: 'test_write', arguments: args })).structuredContent as {
        approval_id: string;
      };
      const approved = await rt.approvals.approve(asked.approval_id, 'alice', { channel: 'cli' });
      const done = await client.callTool({
        name: 'test_write',
        arguments: { ...args, approval_token: await issuedToken(rt.approvals, approved) },
      });
      expect(done.structuredContent).toMatchObject({ status: 'executed' });
    }
    await client.close();
    await rt.close();
  }

  /**
   * Rewrites the whole chain as `keep` says (dropping or editing records), re-hashes it and re-signs
   * checkpoints at the same seqs with the stolen key: everything in the store is consistent again.
   */
  async function rewrite(
    keep: (r: { seq: number; input: AuditInput & { seq?: number; ts?: string } }) => AuditInput | null,
  ): Promise<void> {
    const rows: { input: AuditInput; ts: string }[] = [];
    for await (const batch of store.scanAudit(1000))
      for (const r of batch) {
        const parsed = JSON.parse(r.record) as AuditInput & { seq?: number; ts?: string };
        const kept = keep({ seq: r.seq, input: parsed });
        if (!kept) continue;
        const { seq: _seq, ts: _ts, ...input } = kept as AuditInput & { seq?: number; ts?: string };
        rows.push({ input, ts: r.ts });
      }
    const sealed = sealAudit(undefined, rows);
    const oldCps = (await store.checkpoints()).map((c) => c.seq);
    const key = loadOrCreateSigningKey(keyPath);
    const p = (n: number) => (backend.name === 'sqlite' ? '?' : `$${n}`);
    await backend.sql((tb) => `DELETE FROM ${tb('audit')}`);
    await backend.sql((tb) => `DELETE FROM ${tb('audit_checkpoints')}`);
    for (const r of sealed)
      await backend.sql(
        (tb) =>
          `INSERT INTO ${tb('audit')} (seq, ts, record, prev_hash, hash) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`,
        [r.seq, r.ts, r.record, r.prev_hash, r.hash],
      );
    for (const seq of oldCps) {
      const at = sealed[Math.min(seq, sealed.length) - 1]!;
      const cp = signCheckpoint(key, { seq: at.seq, hash: at.hash }, new Date().toISOString());
      await store.addCheckpoint(cp);
    }
  }

  const verify = (config = t.configPath) => runCli(['audit', 'verify', '--config', config], t.env);

  /** The same setup without a witness: what verify could do before, and still does without one. */
  function configWithoutWitness(): string {
    const path = join(t.dir, 'no-witness.yaml');
    writeFileSync(
      path,
      stringify({
        environments: { prod: { tier: 'production' }, staging: { tier: 'staging' } },
        audit: { signing_key_file: keyPath, checkpoint_every: 5 },
      }),
    );
    return path;
  }

  beforeEach(async () => {
    backend = await factory.create();
    // The worst case the issue names: the private key beside the store.
    keyPath = join(backend.dir, 'audit-signing.pem');
    witnessDir = mkdtempSync(join(tmpdir(), 'day2-witness-'));
    if (backend.name === 'sqlite') {
      witnessConfig = { file: join(witnessDir, 'checkpoints.jsonl') };
    } else {
      const name = `day2_witness_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${name}`);
      await admin.query(
        `CREATE TABLE ${name}.audit_checkpoints (seq bigint PRIMARY KEY, hash text NOT NULL, ts text NOT NULL, key_id text NOT NULL, signature text NOT NULL)`,
      );
      await admin.query(`CREATE ROLE ${name} LOGIN`);
      await admin.query(`GRANT USAGE ON SCHEMA ${name} TO ${name}`);
      await admin.query(`GRANT SELECT, INSERT ON ${name}.audit_checkpoints TO ${name}`);
      await admin.end();
      process.env.DAY2_TEST_WITNESS_URL = PG_URL.replace('postgres@', `${name}@`);
      witnessConfig = { postgres: { url_env: 'DAY2_TEST_WITNESS_URL', table: `${name}.audit_checkpoints` } };
      dropWitness = async () => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        await c.query(`DROP SCHEMA ${name} CASCADE`);
        await c.query(`DROP ROLE ${name}`);
        await c.end();
      };
    }
    t = makeTestEnv(
      {
        audit: { signing_key_file: keyPath, checkpoint_every: 5, witness: witnessConfig },
      },
      backend.spec,
    );
    t.env.DAY2_TEST_WITNESS_URL = process.env.DAY2_TEST_WITNESS_URL;
    await history();
    store = await backend.open();
    const intact = await verify();
    expect(intact.code, intact.stdout + intact.stderr).toBe(0);
    expect(intact.stdout).toMatch(/^audit log intact: \d+ records, \d+ signed checkpoints\n$/);
    expect(intact.stderr).toMatch(/witness .*: \d+ checkpoints up to seq \d+/);
  });

  afterEach(async () => {
    await store?.close();
    await dropWitness();
    dropWitness = () => Promise.resolve();
    t?.cleanup();
    rmSync(witnessDir, { recursive: true, force: true });
    await backend.cleanup();
  });

  it('edit + re-hash + re-sign: names the first seq the witness no longer vouches for', async () => {
    const records = await allAudit(store);
    const edited = records.find((r) => r.event === 'tool.execute' && r.args?.target === 'api')!;
    await rewrite(({ seq, input }) =>
      seq === edited.seq ? { ...input, args: { ...(input.args as object), value: 'innocent' } } : input,
    );
    // Everything in the store agrees with itself again.
    expect(await verifyAudit(store, publicKeyFromFile(keyPath))).toMatchObject({ ok: true });

    const r = await verify();
    expect(r.code).toBe(1);
    const m =
      /audit log BROKEN at seq (\d+): the chain at seq (\d+) differs from the witness's signed checkpoint/.exec(
        r.stdout,
      );
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(edited.seq);
    expect(Number(m![2])).toBeGreaterThanOrEqual(edited.seq);
  });

  it('cutting the tail together with its checkpoint rows: names the first removed seq', async () => {
    const head = (await store.auditHead())!.seq;
    const cut = head - 7;
    await backend.sql((tb) => `DELETE FROM ${tb('audit')} WHERE seq > ${cut}`);
    await backend.sql((tb) => `DELETE FROM ${tb('audit_checkpoints')} WHERE seq > ${cut}`);
    expect(await verifyAudit(store, publicKeyFromFile(keyPath))).toMatchObject({ ok: true });

    const r = await verify();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `^audit log BROKEN at seq ${cut + 1}: the log ends at seq ${cut} but the witness holds a signed checkpoint at seq \\d+`,
      ),
    );
  });

  it('deleting everything after seq N and every checkpoint fails, with or without a witness', async () => {
    await backend.sql((tb) => `DELETE FROM ${tb('audit')} WHERE seq > 4`);
    await backend.sql((tb) => `DELETE FROM ${tb('audit_checkpoints')}`);

    const withWitness = await verify();
    expect(withWitness.code).toBe(1);
    expect(withWitness.stdout).toMatch(
      /^audit log BROKEN at seq 5: the log ends at seq 4 but the witness holds/,
    );
    // Without a witness, a configured key still means "no checkpoints" is a failure, not "0 signed".
    const alone = await verify(configWithoutWitness());
    expect(alone.code).toBe(1);
    expect(alone.stdout).toMatch(
      /^audit log BROKEN at seq 1: the log has 4 records but no signed checkpoint/,
    );
  });

  it("deleting an executed write's tool.execute and approval.consumed and re-hashing is caught", async () => {
    const records = await allAudit(store);
    const execute = records.find((r) => r.event === 'tool.execute' && r.args?.target === 'api')!;
    const digest = execute.action_digest as string;
    await rewrite(({ input }) =>
      input.action_digest === digest && ['tool.execute', 'approval.consumed'].includes(input.event)
        ? null
        : input,
    );
    expect(await verifyAudit(store, publicKeyFromFile(keyPath), { requireCheckpoints: true })).toMatchObject({
      ok: false,
      first_bad_seq: execute.seq,
      reason: expect.stringMatching(/outcome of action .* no earlier tool.execute record/),
    });
    const r = await verify();
    expect(r.code).toBe(1);
    const m = /audit log BROKEN at seq (\d+): .*witness/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(execute.seq);
    // Without a witness the orphaned outcome still gives it away.
    const alone = await verify(configWithoutWitness());
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain(
      `BROKEN at seq ${execute.seq}: record ${execute.seq} is the outcome of action`,
    );
  });

  it('removing every record of an executed write is caught by its consumed approval', async () => {
    const records = await allAudit(store);
    const execute = records.find((r) => r.event === 'tool.execute' && r.args?.target === 'web')!;
    const digest = execute.action_digest as string;
    await rewrite(({ input }) =>
      input.action_digest === digest &&
      ['tool.execute', 'approval.consumed', 'tool.outcome'].includes(input.event)
        ? null
        : input,
    );
    const later = new Date(Date.now() + 5 * 60_000);
    expect(
      await verifyAudit(store, publicKeyFromFile(keyPath), { requireCheckpoints: true, now: later }),
    ).toMatchObject({
      ok: false,
      first_bad_seq: execute.seq,
      reason: expect.stringMatching(/approval .* was consumed at .* no approval.consumed record/),
    });
    expect(readFileSync(t.backendFile, 'utf8')).toContain('"target":"web"');
  });
});
