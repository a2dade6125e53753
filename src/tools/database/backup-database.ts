import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { resolveDatabase } from './resolve-database.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { writeStatusField } from '../../contract/fields.js';
import { backupsFolder, compactTimestamp, sha256File } from './backup-files.js';
import { databaseTargetFields, formatBytes, num } from './database-fields.js';

export const backupDatabase = defineTool({
  name: 'backup_database',
  title: 'Back up a database',
  description: "pg_dump (custom format) to the env's backups folder, verified with pg_restore --list.",
  toolset: 'database',
  effect: 'write',
  risk: 'low',
  input: { ...databaseTargetFields },
  output: {
    status: writeStatusField,
    env: z.string(),
    database: z.string(),
    file: z.string().describe('file name inside the backups folder'),
    bytes: z.number(),
    sha256: z.string(),
    toc_entries: z.number().describe('entries pg_restore --list read from the archive'),
    duration_ms: z.number(),
  },
  async plan(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const folder = backupsFolder(ctx.deps, db.env);
    const pgp = ctx.deps.backends.postgres;
    const [info] = await pgp.query(
      db,
      `select current_setting('server_version_num')::int as version, pg_database_size(current_database()) as bytes, current_database() as dbname`,
    );
    const serverMajor = Math.floor(num(info?.version) / 10000);
    const clientMajor = await pgp.binaryMajor(pgp.pgDump);
    const bytes = num(info?.bytes);
    const file = `${String(info?.dbname)}_${db.env}_${compactTimestamp(ctx.deps.clock.now())}.dump`;
    return {
      summary: `pg_dump ${db.env}/${db.database} (${formatBytes(bytes)}) to ${folder}`,
      env: db.env,
      service: db.service,
      targets: [db.target],
      preconditions: { server_major: serverMajor },
      details: {
        folder,
        file,
        database_bytes: bytes,
        format: 'custom (-Fc)',
        pg_dump_major: clientMajor,
        server_major: serverMajor,
        verify: 'pg_restore --list, sha256',
      },
      ...(clientMajor < serverMajor
        ? {
            refusal: `pg_dump ${clientMajor} is older than the server (${serverMajor}); install a pg_dump of version ${serverMajor} or later`,
          }
        : {}),
    };
  },
  async execute(args, ctx) {
    const db = resolveDatabase(ctx.deps, args);
    const folder = backupsFolder(ctx.deps, db.env);
    const pgp = ctx.deps.backends.postgres;
    await mkdir(folder, { recursive: true });
    const [info] = await pgp.query(
      db,
      `select current_database() as dbname, pg_database_size(current_database()) as bytes`,
    );
    const stem = `${String(info?.dbname)}_${db.env}_${compactTimestamp(ctx.deps.clock.now())}`;
    let file = `${stem}.dump`;
    for (let n = 1; await exists(join(folder, file)); n++) file = `${stem}-${n}.dump`;
    const path = join(folder, file);
    const partial = `${path}.partial`;
    const started = Date.now();
    await ctx.progress(0, 3, `pg_dump of ${db.database} (~${formatBytes(num(info?.bytes))}) started`);
    // File growth is the only progress pg_dump offers; report it while the dump runs.
    const ticker = setInterval(() => {
      stat(partial)
        .then((s) => ctx.progress(0, 3, `pg_dump wrote ${formatBytes(s.size)}`))
        .catch(() => undefined);
    }, 1000);
    try {
      await pgp.dump(db, partial, ctx.signal);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    } finally {
      clearInterval(ticker);
    }
    await ctx.progress(1, 3, 'verifying the archive with pg_restore --list');
    let toc: string[];
    try {
      toc = await pgp.listArchive(partial, ctx.signal);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
    const sha256 = await sha256File(partial);
    await rename(partial, path);
    const bytes = (await stat(path)).size;
    await writeFile(`${path}.sha256`, `${sha256}  ${basename(path)}\n`);
    await ctx.progress(3, 3, 'backup written and verified');
    if (toc.length === 0)
      throw new ToolError(`the dump ${file} has an empty table of contents`, 'backup_invalid');
    return {
      status: 'executed' as const,
      env: db.env,
      database: db.database,
      file,
      bytes,
      sha256,
      toc_entries: toc.length,
      duration_ms: Date.now() - started,
    };
  },
  render(out) {
    return `backed up ${out.env}/${out.database} to ${out.file} (${formatBytes(out.bytes)}, ${out.toc_entries} archive entries, sha256 ${out.sha256.slice(0, 16)}…) in ${out.duration_ms} ms`;
  },
});

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
