import type { AnyTool } from '../../contract/define-tool.js';
import { backupDatabase } from './backup-database.js';
import { blockingQueries } from './blocking-queries.js';
import { cancelQuery } from './cancel-query.js';
import { createIndex } from './create-index.js';
import { dbHealth } from './db-health.js';
import { describeTable } from './describe-table.js';
import { explainQuery } from './explain-query.js';
import { reindex } from './reindex.js';
import { restoreDatabase } from './restore-database.js';
import { runMigration } from './run-migration.js';
import { slowQueries } from './slow-queries.js';

/** The database toolset: reads first, then writes. */
export const databaseTools: AnyTool[] = [
  dbHealth,
  describeTable,
  slowQueries,
  explainQuery,
  blockingQueries,
  runMigration,
  reindex,
  createIndex,
  backupDatabase,
  restoreDatabase,
  cancelQuery,
];
