import { environmentConfig } from '../../config/lookup.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Deps } from '../../contract/deps.js';
import { ToolError } from '../../contract/define-tool.js';

/** The configured backups folder of an environment (environments.<env>.backups), absolute. */
export function backupsFolder(deps: Pick<Deps, 'config'>, env: string): string {
  const folder = environmentConfig(deps.config, env)?.backups;
  if (!folder)
    throw new ToolError(
      `environment "${env}" has no backups folder configured (environments.${env}.backups)`,
      'not_configured',
      'env',
    );
  return resolve(folder);
}

/** Streams a file through SHA-256. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolveHash(h.digest('hex')));
  });
}

/**
 * Resolves a dump named by a tool argument to a file inside the backups folder: a bare name or a
 * path that stays inside it. Anything outside is refused, so a restore cannot read arbitrary files.
 */
export async function dumpInFolder(
  folder: string,
  name: string,
): Promise<{ path: string; bytes: number; mtime: Date }> {
  const candidate = isAbsolute(name) ? name : resolve(folder, name);
  let real: string;
  let realFolder: string;
  try {
    [real, realFolder] = await Promise.all([realpath(candidate), realpath(folder)]);
  } catch {
    throw new ToolError(`no backup file "${name}" in the backups folder`, 'not_found', 'file');
  }
  const rel = relative(realFolder, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw new ToolError(
      `backup file "${name}" is outside the configured backups folder`,
      'invalid_path',
      'file',
    );
  }
  const s = await stat(real);
  if (!s.isFile()) throw new ToolError(`"${name}" is not a file`, 'not_found', 'file');
  return { path: real, bytes: s.size, mtime: s.mtime };
}

/** `20261126T120000Z` for file and database names. */
export function compactTimestamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
