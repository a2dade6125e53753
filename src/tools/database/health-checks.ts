import type pg from 'pg';
import { clip, num, text, type Severity } from './database-fields.js';
import { statisticsState } from './statistics.js';

/** One problem db_health found, with the numbers that show it. */
export interface Finding {
  check: string;
  severity: Severity;
  object: string;
  summary: string;
  evidence: Record<string, string | number | boolean | null>;
}

export interface HealthMetrics {
  server_version: string;
  database_bytes: number;
  connections: number;
  max_connections: number;
  cache_hit_ratio: number | null;
  xid_age: number;
  is_replica: boolean;
  tables: number;
  bloat_method: 'pgstattuple' | 'estimate';
}

export interface HealthOptions {
  idleInTransactionSeconds: number;
  /** An active transaction older than this is reported (long_transaction); default 300. */
  longTransactionSeconds?: number;
  unusedIndexMinBytes: number;
}

const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast' and n.nspname !~ '^pg_temp'`;
const MB = 1024 * 1024;

type Row = Record<string, unknown>;

/**
 * Runs every health check on one client (inside the caller's read-only transaction). Each check
 * is one catalog query; their cost grows with the number of relations, not with data size.
 */
export async function collectHealth(
  c: pg.ClientBase,
  opts: HealthOptions,
): Promise<{ metrics: HealthMetrics; findings: Finding[] }> {
  const findings: Finding[] = [];
  const q = async (sql: string, params: unknown[] = []): Promise<Row[]> =>
    (await c.query<Row>(sql, params)).rows;

  const [info] = await q(`
    select current_setting('server_version') as version, (select sum(relpages)::bigint * 8192 from pg_class) as bytes,
      (select count(*) from pg_stat_activity where backend_type = 'client backend') as connections,
      current_setting('max_connections')::int as max_connections,
      current_setting('superuser_reserved_connections')::int as reserved,
      current_setting('autovacuum_freeze_max_age')::bigint as freeze_max_age,
      (select age(datfrozenxid) from pg_database where datname = current_database()) as xid_age,
      pg_is_in_recovery() as replica,
      exists (select 1 from pg_extension where extname = 'pgstattuple') as pgstattuple,
      d.blks_hit, d.blks_read, d.stats_reset::text as stats_reset
    from pg_stat_database d where d.datname = current_database()`);
  const row = info ?? {};
  const blksHit = num(row.blks_hit);
  const blksRead = num(row.blks_read);
  const cacheHit = blksHit + blksRead > 0 ? blksHit / (blksHit + blksRead) : null;
  const hasPgstattuple = row.pgstattuple === true;

  // Connections.
  const conns = num(row.connections);
  const maxConns = num(row.max_connections) - num(row.reserved);
  const usage = maxConns > 0 ? conns / maxConns : 0;
  if (usage >= 0.6) {
    findings.push({
      check: 'connections',
      severity: usage >= 0.9 ? 'critical' : usage >= 0.8 ? 'high' : 'medium',
      object: 'server',
      summary: `${conns} of ${maxConns} usable connections in use (${Math.round(usage * 100)}%)`,
      evidence: { connections: conns, usable_connections: maxConns },
    });
  }
  for (const r of await q(
    `select pid, usename, application_name, state, extract(epoch from now() - state_change)::float8 as idle_s,
       extract(epoch from now() - xact_start)::float8 as xact_s, left(query, 400) as query
     from pg_stat_activity
     where state in ('idle in transaction', 'idle in transaction (aborted)') and datname = current_database()
       and now() - state_change > make_interval(secs => $1)
     order by state_change limit 20`,
    [opts.idleInTransactionSeconds],
  )) {
    const idle = num(r.idle_s);
    findings.push({
      check: 'idle_in_transaction',
      severity: idle >= 3600 ? 'high' : 'medium',
      object: `pid ${num(r.pid)}`,
      summary: `session ${num(r.pid)} has been idle in a transaction for ${Math.round(idle)} s; it holds locks and blocks vacuum`,
      evidence: {
        pid: num(r.pid),
        user: text(r.usename),
        application: clip(text(r.application_name), 60),
        idle_seconds: Math.round(idle),
        transaction_seconds: Math.round(num(r.xact_s)),
        last_query: clip(text(r.query), 200),
      },
    });
  }

  for (const r of await q(
    `select pid, usename, application_name, extract(epoch from now() - xact_start)::float8 as xact_s, left(query, 400) as query
     from pg_stat_activity
     where state = 'active' and datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()
       and now() - xact_start > make_interval(secs => $1)
     order by xact_start limit 20`,
    [opts.longTransactionSeconds ?? 300],
  )) {
    const secs = num(r.xact_s);
    findings.push({
      check: 'long_transaction',
      severity: secs >= 3600 ? 'high' : 'medium',
      object: `pid ${num(r.pid)}`,
      summary: `session ${num(r.pid)} has been in one transaction for ${Math.round(secs)} s: it holds back vacuum and may hold locks others wait on`,
      evidence: {
        pid: num(r.pid),
        user: text(r.usename),
        application: clip(text(r.application_name), 60),
        transaction_seconds: Math.round(secs),
        query: clip(text(r.query), 200),
      },
    });
  }

  // Without pg_stat_statements, slow_queries sees only what runs now.
  const [pss] = await q(`
    select exists (select 1 from pg_extension where extname = 'pg_stat_statements') as installed,
      'pg_stat_statements' = any (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) as preloaded`);
  if (pss && (pss.installed !== true || pss.preloaded !== true)) {
    findings.push({
      check: 'pg_stat_statements',
      severity: 'info',
      object: 'database',
      summary:
        pss.preloaded !== true
          ? 'pg_stat_statements is not preloaded, so query history (slow_queries) is not collected'
          : 'the pg_stat_statements extension is not created in this database, so slow_queries cannot read query history',
      evidence: { preloaded: pss.preloaded === true, installed: pss.installed === true },
    });
  }

  // Cache hit rate: only meaningful once enough blocks were read.
  if (cacheHit !== null && blksHit + blksRead >= 100_000 && cacheHit < 0.99) {
    findings.push({
      check: 'cache_hit_rate',
      severity: cacheHit < 0.9 ? 'medium' : 'low',
      object: 'database',
      summary: `buffer cache hit rate is ${(cacheHit * 100).toFixed(1)}% (below 99%): the working set may not fit in shared_buffers`,
      evidence: {
        blks_hit: blksHit,
        blks_read: blksRead,
        hit_ratio: Number(cacheHit.toFixed(4)),
        stats_reset: (row.stats_reset as string | null) ?? null,
      },
    });
  }

  // Transaction-ID wraparound, database level.
  const xidAge = num(row.xid_age);
  const freezeMax = num(row.freeze_max_age);
  if (xidAge >= freezeMax) {
    findings.push({
      check: 'xid_wraparound',
      severity: xidAge >= 1_600_000_000 ? 'critical' : xidAge >= 1_000_000_000 ? 'high' : 'medium',
      object: 'database',
      summary: `oldest unfrozen transaction ID is ${xidAge} transactions old (wraparound at ~2.1 billion); anti-wraparound vacuum is due`,
      evidence: { xid_age: xidAge, autovacuum_freeze_max_age: freezeMax },
    });
  }

  // Indexes: invalid, duplicate, unused.
  for (const r of await q(`
    select n.nspname as schema, ci.relname as index, ct.relname as tbl, pg_relation_size(ci.oid) as bytes,
      pg_get_indexdef(ci.oid) as definition, i.indisunique as is_unique
    from pg_index i join pg_class ci on ci.oid = i.indexrelid join pg_class ct on ct.oid = i.indrelid
    join pg_namespace n on n.oid = ci.relnamespace
    where not i.indisvalid and ${USER_SCHEMAS}`)) {
    findings.push({
      check: 'invalid_index',
      severity: 'high',
      object: `${r.schema as string}.${r.index as string}`,
      summary: `index ${r.schema as string}.${r.index as string} on ${r.tbl as string} is INVALID (a failed or running CREATE INDEX CONCURRENTLY): it is maintained on writes but never used; reindex or drop it`,
      evidence: {
        table: `${r.schema as string}.${r.tbl as string}`,
        bytes: num(r.bytes),
        unique: r.is_unique === true,
        definition: clip(r.definition as string, 300),
      },
    });
  }
  for (const r of await q(`
    select d.schema, d.tbl, array_agg(x.relname::text order by x.relname) as indexes, sum(pg_relation_size(x.oid))::bigint as bytes
    from (
      select n.nspname as schema, ct.relname as tbl, array_agg(ci.oid) as oids
      from pg_index i join pg_class ci on ci.oid = i.indexrelid join pg_class ct on ct.oid = i.indrelid
      join pg_namespace n on n.oid = ct.relnamespace
      where ${USER_SCHEMAS}
      group by n.nspname, ct.relname, i.indrelid, ci.relam, i.indkey::text, i.indclass::text, i.indcollation::text,
        coalesce(i.indexprs::text, ''), coalesce(i.indpred::text, '')
      having count(*) > 1
    ) d cross join lateral unnest(d.oids) o(oid) join pg_class x on x.oid = o.oid
    group by d.schema, d.tbl`)) {
    const names = r.indexes as string[];
    findings.push({
      check: 'duplicate_index',
      severity: 'medium',
      object: `${r.schema as string}.${r.tbl as string}`,
      summary: `indexes ${names.join(', ')} on ${r.schema as string}.${r.tbl as string} have the same definition; keep one`,
      evidence: { indexes: names.join(', '), bytes: num(r.bytes) },
    });
  }
  for (const r of await q(
    `select * from (
       select s.schemaname as schema, s.relname as tbl, s.indexrelname as index, pg_relation_size(s.indexrelid) as bytes
       from pg_stat_user_indexes s join pg_index i on i.indexrelid = s.indexrelid join pg_class ci on ci.oid = s.indexrelid
       where s.idx_scan = 0 and not i.indisunique and not i.indisprimary and i.indisvalid
         and not exists (select 1 from pg_constraint k where k.conindid = s.indexrelid)
         and ci.relpages::bigint * 8192 >= $1 / 2
     ) u where bytes >= $1 order by bytes desc limit 50`,
    [opts.unusedIndexMinBytes],
  )) {
    findings.push({
      check: 'unused_index',
      severity: 'low',
      object: `${r.schema as string}.${r.index as string}`,
      summary: `index ${r.schema as string}.${r.index as string} has not been scanned since statistics were reset; it costs writes and space`,
      evidence: {
        table: `${r.schema as string}.${r.tbl as string}`,
        bytes: num(r.bytes),
        idx_scan: 0,
        stats_reset: (row.stats_reset as string | null) ?? null,
      },
    });
  }

  // Tables: sequential-scan pressure (a missing index), dead tuples, vacuum, per-table wraparound.
  const tables = await q(`
    select s.relid, s.schemaname as schema, s.relname as tbl, s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0) as idx_scan,
      s.n_live_tup, s.n_dead_tup, coalesce(greatest(s.last_vacuum, s.last_autovacuum)::text, '') as last_vacuum,
      -- Exact size only where it can matter: stat() of every file is the slow part on big catalogs.
      case when s.n_dead_tup > 0 or c.relpages >= 128 then pg_table_size(s.relid) else c.relpages::bigint * 8192 end as bytes,
      c.reloptions::text as reloptions, age(c.relfrozenxid) as xid_age,
      w.row_width, c.reltuples::float8 as reltuples, s.n_mod_since_analyze,
      (s.last_analyze is not null or s.last_autoanalyze is not null) as analyzed,
      coalesce(greatest(s.last_analyze, s.last_autoanalyze)::text, '') as last_analyze
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    left join (select schemaname, tablename, sum(avg_width) as row_width from pg_stats group by 1, 2) w
      on w.schemaname = s.schemaname and w.tablename = s.relname`);
  const bloatCandidates: Array<{ relid: number; finding: Finding }> = [];
  for (const t of tables) {
    const name = `${t.schema as string}.${t.tbl as string}`;
    const seqScan = num(t.seq_scan);
    const seqRead = num(t.seq_tup_read);
    const live = num(t.n_live_tup);
    const dead = num(t.n_dead_tup);
    const bytes = num(t.bytes);
    const avgRead = seqScan > 0 ? seqRead / seqScan : 0;
    if (seqScan >= 3 && live >= 10_000 && avgRead >= 10_000 && seqScan > num(t.idx_scan)) {
      findings.push({
        check: 'missing_index',
        severity: seqRead >= 100_000_000 ? 'high' : 'medium',
        object: name,
        summary: `${name} is mostly read by sequential scans (${seqScan} scans, ~${Math.round(avgRead)} rows each): a filtered column probably needs an index; see slow_queries and explain_query`,
        evidence: {
          seq_scan: seqScan,
          seq_tup_read: seqRead,
          idx_scan: num(t.idx_scan),
          live_tuples: live,
          bytes,
        },
      });
    }
    const stats = statisticsState({
      analyzed: t.analyzed === true,
      live,
      modified: num(t.n_mod_since_analyze),
      planner: Math.max(0, num(t.reltuples)),
    });
    if (stats !== 'fresh') {
      findings.push({
        check: 'stale_statistics',
        severity: live >= 1000 || stats === 'missing' ? 'medium' : 'low',
        object: name,
        summary:
          stats === 'missing'
            ? `${name} has never been analyzed: the planner has no statistics for its ${live} live rows and may pick bad plans`
            : `statistics for ${name} are stale: ${num(t.n_mod_since_analyze)} rows changed since the last analyze, the catalog estimates ${Math.max(0, num(t.reltuples))} rows where ${live} are live`,
        evidence: {
          live_tuples: live,
          catalog_estimate: num(t.reltuples) < 0 ? null : num(t.reltuples),
          modified_since_analyze: num(t.n_mod_since_analyze),
          last_analyze: (t.last_analyze as string) || null,
        },
      });
    }
    const autovacuumOff = /autovacuum_enabled=(false|off|0)/i.test(text(t.reloptions));
    const threshold = 50 + 0.2 * live;
    if (dead > threshold && autovacuumOff) {
      findings.push({
        check: 'vacuum',
        severity: 'medium',
        object: name,
        summary: `autovacuum is disabled on ${name} and it has ${dead} dead tuples (autovacuum would start at ~${Math.round(threshold)})`,
        evidence: {
          dead_tuples: dead,
          live_tuples: live,
          last_vacuum: (t.last_vacuum as string) || null,
          reloptions: clip(text(t.reloptions), 200),
        },
      });
    }
    const deadRatio = live + dead > 0 ? dead / (live + dead) : 0;
    const width = num(t.row_width);
    // Expected heap size from row count and width (tuple header 24 B + line pointer 4 B).
    const expected = width > 0 ? (live * (width + 28)) / 0.97 + 8192 : 0;
    const freeRatio = expected > 0 && bytes > expected ? 1 - expected / bytes : 0;
    const wasted = Math.max(deadRatio, bytes >= MB ? freeRatio : 0);
    if ((dead >= 1000 && deadRatio >= 0.2) || (bytes >= MB && freeRatio >= 0.5)) {
      bloatCandidates.push({
        relid: num(t.relid),
        finding: {
          check: 'table_bloat',
          severity: wasted >= 0.5 ? 'high' : 'medium',
          object: name,
          summary: `${name}: about ${Math.round(wasted * 100)}% of ${Math.round(bytes / 1024)} kB is dead or free space (estimate); VACUUM (or pg_repack for free space) would reclaim it`,
          evidence: {
            method: 'estimate',
            dead_tuples: dead,
            live_tuples: live,
            dead_ratio: Number(deadRatio.toFixed(3)),
            estimated_free_ratio: Number(freeRatio.toFixed(3)),
            bytes,
            last_vacuum: (t.last_vacuum as string) || null,
          },
        },
      });
    }
    const tableXid = num(t.xid_age);
    if (tableXid >= freezeMax && freezeMax > 0) {
      findings.push({
        check: 'xid_wraparound',
        severity: tableXid >= 1_600_000_000 ? 'critical' : tableXid >= 1_000_000_000 ? 'high' : 'medium',
        object: name,
        summary: `${name} has not been frozen for ${tableXid} transactions; VACUUM (FREEZE) it before wraparound`,
        evidence: { xid_age: tableXid, autovacuum_freeze_max_age: freezeMax },
      });
    }
  }
  // With pgstattuple installed, measure the worst candidates instead of estimating them.
  bloatCandidates.sort((a, b) => num(b.finding.evidence.bytes) - num(a.finding.evidence.bytes));
  for (const [k, cand] of bloatCandidates.entries()) {
    if (hasPgstattuple && k < 10) {
      const [m] = await q(
        `select dead_tuple_percent, approx_free_percent, approx_tuple_percent from pgstattuple_approx($1::oid::regclass)`,
        [cand.relid],
      );
      if (m) {
        const wasted = (num(m.dead_tuple_percent) + num(m.approx_free_percent)) / 100;
        cand.finding.evidence = {
          ...cand.finding.evidence,
          method: 'pgstattuple_approx',
          dead_tuple_percent: num(m.dead_tuple_percent),
          free_percent: num(m.approx_free_percent),
        };
        cand.finding.severity = wasted >= 0.5 ? 'high' : 'medium';
        cand.finding.summary = `${cand.finding.object}: ${Math.round(wasted * 100)}% of ${Math.round(num(cand.finding.evidence.bytes) / 1024)} kB is dead or free space (pgstattuple); VACUUM would reclaim it`;
      }
    }
    findings.push(cand.finding);
  }

  // Index bloat: B-tree size against the size its rows need.
  for (const r of await q(`
    select n.nspname as schema, ci.relname as index, ct.relname as tbl, ci.oid as oid, pg_relation_size(ci.oid) as bytes, ci.reltuples,
      (select sum(st.avg_width) from pg_attribute a join pg_stats st on st.schemaname = n.nspname and st.tablename = ct.relname and st.attname = a.attname
        where a.attrelid = ct.oid and a.attnum = any (i.indkey::int2[])) as key_width
    from pg_index i join pg_class ci on ci.oid = i.indexrelid join pg_class ct on ct.oid = i.indrelid
    join pg_namespace n on n.oid = ci.relnamespace join pg_am am on am.oid = ci.relam
    where am.amname = 'btree' and i.indisvalid and i.indexprs is null and ${USER_SCHEMAS} and ci.relpages >= 64 and pg_relation_size(ci.oid) >= ${MB}
    order by bytes desc limit 200`)) {
    const bytes = num(r.bytes);
    const width = num(r.key_width);
    if (width <= 0 || num(r.reltuples) <= 0) continue;
    const expected = (num(r.reltuples) * (Math.ceil((width + 8) / 8) * 8 + 4)) / 0.9 + 8192;
    let ratio = bytes > expected ? 1 - expected / bytes : 0;
    let method = 'estimate';
    if (hasPgstattuple && ratio >= 0.4) {
      const [m] = await q(`select avg_leaf_density from pgstatindex($1::oid::regclass)`, [num(r.oid)]);
      if (m && num(m.avg_leaf_density) > 0) {
        ratio = 1 - num(m.avg_leaf_density) / 90;
        method = 'pgstatindex';
      }
    }
    if (ratio >= 0.5 && bytes - expected >= MB) {
      findings.push({
        check: 'index_bloat',
        severity: ratio >= 0.75 ? 'medium' : 'low',
        object: `${r.schema as string}.${r.index as string}`,
        summary: `index ${r.schema as string}.${r.index as string} is about ${Math.round(ratio * 100)}% larger than its rows need (${method}); REINDEX CONCURRENTLY would shrink it`,
        evidence: {
          method,
          table: `${r.schema as string}.${r.tbl as string}`,
          bytes,
          expected_bytes: Math.round(expected),
          bloat_ratio: Number(ratio.toFixed(3)),
        },
      });
    }
  }

  // Sequences close to their limit.
  for (const r of await q(`
    select schemaname as schema, sequencename as seq, last_value, max_value, min_value, increment_by, data_type::text as data_type
    from pg_sequences where last_value is not null`)) {
    const last = num(r.last_value);
    const ratio = num(r.increment_by) >= 0 ? last / num(r.max_value) : last / num(r.min_value);
    if (ratio >= 0.75) {
      findings.push({
        check: 'sequence_exhaustion',
        severity: ratio >= 0.98 ? 'critical' : ratio >= 0.9 ? 'high' : 'medium',
        object: `${r.schema as string}.${r.seq as string}`,
        summary: `sequence ${r.schema as string}.${r.seq as string} (${r.data_type as string}) has used ${(ratio * 100).toFixed(1)}% of its range`,
        evidence: {
          last_value: String(r.last_value),
          max_value: String(r.max_value),
          data_type: r.data_type as string,
          used_ratio: Number(ratio.toFixed(4)),
        },
      });
    }
  }

  // Replication: lag of connected standbys, WAL held by inactive slots, or our own replay delay.
  if (row.replica === true) {
    const [r] = await q(
      `select extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as lag_s`,
    );
    const lag = num(r?.lag_s);
    if (lag >= 30) {
      findings.push({
        check: 'replication_lag',
        severity: lag >= 300 ? 'high' : 'medium',
        object: 'this replica',
        summary: `this replica last replayed a transaction ${Math.round(lag)} s ago`,
        evidence: { replay_delay_seconds: Math.round(lag) },
      });
    }
  } else {
    for (const r of await q(`
      select application_name, client_addr::text as client, state, coalesce(extract(epoch from replay_lag)::float8, 0) as lag_s,
        pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 as lag_bytes
      from pg_stat_replication`)) {
      const lag = num(r.lag_s);
      const lagBytes = num(r.lag_bytes);
      if (lag >= 30 || lagBytes >= 256 * MB) {
        findings.push({
          check: 'replication_lag',
          severity: lag >= 300 || lagBytes >= 4096 * MB ? 'high' : 'medium',
          object: `replica ${clip(text(r.application_name), 60) || text(r.client)}`,
          summary: `replica ${clip(text(r.application_name), 60)} is ${Math.round(lag)} s / ${Math.round(lagBytes / MB)} MB behind`,
          evidence: { state: text(r.state), replay_lag_seconds: Math.round(lag), lag_bytes: lagBytes },
        });
      }
    }
    for (const r of await q(`
      select slot_name, slot_type, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 as retained
      from pg_replication_slots where not active and restart_lsn is not null`)) {
      const retained = num(r.retained);
      if (retained >= 256 * MB) {
        findings.push({
          check: 'replication_slot',
          severity: retained >= 4096 * MB ? 'high' : 'medium',
          object: `slot ${r.slot_name as string}`,
          summary: `inactive replication slot ${r.slot_name as string} retains ${Math.round(retained / MB)} MB of WAL`,
          evidence: { slot_type: String(r.slot_type), retained_bytes: retained },
        });
      }
    }
  }

  // Constraints added NOT VALID and never validated.
  for (const r of await q(`
    select n.nspname as schema, k.conname, cl.relname as tbl, k.contype::text as contype, pg_get_constraintdef(k.oid) as def
    from pg_constraint k join pg_class cl on cl.oid = k.conrelid join pg_namespace n on n.oid = cl.relnamespace
    where not k.convalidated and ${USER_SCHEMAS}`)) {
    findings.push({
      check: 'unvalidated_constraint',
      severity: 'low',
      object: `${r.schema as string}.${r.tbl as string}.${r.conname as string}`,
      summary: `constraint ${r.conname as string} on ${r.schema as string}.${r.tbl as string} is NOT VALID: existing rows were never checked; run ALTER TABLE ... VALIDATE CONSTRAINT`,
      evidence: {
        type: r.contype === 'f' ? 'foreign key' : r.contype === 'c' ? 'check' : String(r.contype),
        definition: clip(r.def as string, 300),
      },
    });
  }

  return {
    metrics: {
      server_version: text(row.version),
      database_bytes: num(row.bytes),
      connections: conns,
      max_connections: num(row.max_connections),
      cache_hit_ratio: cacheHit === null ? null : Number(cacheHit.toFixed(4)),
      xid_age: xidAge,
      is_replica: row.replica === true,
      tables: tables.length,
      bloat_method: hasPgstattuple ? 'pgstattuple' : 'estimate',
    },
    findings,
  };
}
