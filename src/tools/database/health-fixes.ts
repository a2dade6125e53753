import type { Finding } from './health-checks.js';

/** How to reach the database in a fixing call. */
export interface FixTarget {
  env: string;
  database: string;
}

const call = (tool: string, t: FixTarget, args: Record<string, unknown>) =>
  `${tool} ${JSON.stringify({ env: t.env, database: t.database, ...args })}`;

/**
 * The call or SQL that fixes a finding: a day2 tool where one does it (governed), else the SQL an
 * operator runs. Object names come from the database's catalog, already schema-qualified.
 */
export function fixFor(f: Finding, t: FixTarget): string | undefined {
  const pid = typeof f.evidence.pid === 'number' ? f.evidence.pid : undefined;
  switch (f.check) {
    case 'invalid_index':
    case 'index_bloat':
      return call('reindex', t, { index: f.object });
    case 'duplicate_index': {
      const [, ...extra] = String(f.evidence.indexes ?? '').split(', ');
      const schema = f.object.split('.')[0];
      return extra.length
        ? extra.map((ix) => `DROP INDEX CONCURRENTLY ${schema}.${ix};`).join(' ')
        : undefined;
    }
    case 'unused_index':
      return `DROP INDEX CONCURRENTLY ${f.object}; (check replicas use it neither)`;
    case 'missing_index':
      return `${call('explain_query', t, { sql: `<a query that filters ${f.object}>` })} proposes an index and its create_index call`;
    case 'stale_statistics':
      return `ANALYZE ${f.object};`;
    case 'vacuum':
    case 'table_bloat':
      return `VACUUM (ANALYZE) ${f.object};`;
    case 'xid_wraparound':
      return f.object === 'database' ? 'VACUUM (FREEZE);' : `VACUUM (FREEZE) ${f.object};`;
    case 'sequence_exhaustion':
      return `ALTER SEQUENCE ${f.object} AS bigint; (and widen the column it feeds)`;
    case 'idle_in_transaction':
      return pid !== undefined ? call('cancel_query', t, { pid, force: true }) : undefined;
    case 'long_transaction':
      return pid !== undefined ? call('cancel_query', t, { pid }) : undefined;
    case 'connections':
      return `${call('blocking_queries', t, {})} shows who holds them; a pooler (PgBouncer) or a higher max_connections makes room`;
    case 'unvalidated_constraint': {
      const parts = f.object.split('.');
      const name = parts.pop();
      return `ALTER TABLE ${parts.join('.')} VALIDATE CONSTRAINT ${name};`;
    }
    case 'pg_stat_statements':
      return f.evidence.preloaded === true
        ? 'CREATE EXTENSION pg_stat_statements;'
        : "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'; restart the server; CREATE EXTENSION pg_stat_statements;";
    case 'replication_slot':
      return `SELECT pg_drop_replication_slot('${f.object.replace(/^slot /, '')}'); only if nothing will read the slot again`;
    case 'cache_hit_rate':
      return 'raise shared_buffers (ALTER SYSTEM SET shared_buffers = ...; restart)';
    default:
      return undefined;
  }
}
