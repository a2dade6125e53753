/**
 * Benchmark: verifyAudit over 1,000,000 records in a temporary SQLite store.
 * Run with `npm exec -- tsx bench/audit-verify.ts [records]`. Target: >= 200,000 records/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { loadOrCreateSigningKey, signCheckpoint } from '../src/guards/audit-log.js';
import { verifyAudit } from '../src/guards/audit-verify.js';
import { sealAudit } from '../src/store/audit-chain.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { AuditInput } from '../src/store/store.js';

const total = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'day2-bench-'));
const path = join(dir, 'day2.db');

try {
  // Create the schema through the store, then bulk-load the chain in one transaction.
  await SqliteStore.open(path).close();
  const t0 = performance.now();
  const db = new DatabaseSync(path);
  const insert = db.prepare('INSERT INTO audit (seq, ts, record, prev_hash, hash) VALUES (?, ?, ?, ?, ?)');
  const base = Date.parse('2026-11-26T00:00:00Z');
  let head: { seq: number; hash: string } | undefined;
  db.exec('BEGIN');
  for (let done = 0; done < total;) {
    const n = Math.min(10_000, total - done);
    const items = Array.from({ length: n }, (_, i) => {
      const k = done + i;
      const input: AuditInput = {
        event: 'tool_call',
        principal: `user${k % 7}@example.com`,
        client: 'bench',
        transport: 'stdio',
        tool: ['get_service', 'scale_deployment', 'list_alerts'][k % 3]!,
        env: k % 2 ? 'prod' : 'staging',
        service: `svc-${k % 50}`,
        args: { service: `svc-${k % 50}`, replicas: k % 10 },
        outcome: { ok: true, duration_ms: k % 100 },
      };
      return { input, ts: new Date(base + k).toISOString() };
    });
    const records = sealAudit(head, items);
    for (const r of records) insert.run(r.seq, r.ts, r.record, r.prev_hash, r.hash);
    const last = records[records.length - 1]!;
    head = { seq: last.seq, hash: last.hash };
    done += n;
  }
  db.exec('COMMIT');
  db.close();
  const key = loadOrCreateSigningKey(join(dir, 'audit-signing.pem'));
  const store = SqliteStore.open(path);
  if (head) await store.addCheckpoint(signCheckpoint(key, head, new Date().toISOString()));
  console.log(`wrote ${total} records in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await verifyAudit(store, key.publicKey);
  const seconds = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  await store.close();
  if (!result.ok) throw new Error(`verify failed: ${result.reason}`);
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `verifyAudit: ${result.records} records, ${result.checkpoints} checkpoint(s) in ${seconds.toFixed(2)} s = ${rate(result.records / seconds)} records/s` +
      ` (${cpuSeconds.toFixed(2)} s of CPU = ${rate(result.records / cpuSeconds)} records per CPU-second; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
