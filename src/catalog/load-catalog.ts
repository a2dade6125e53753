import { buildCatalog } from './build-catalog.js';
import type { Catalog } from './catalog.js';
import { loadCatalogFiles } from './parse-catalog.js';
import type { CatalogError } from './parse-catalog.js';

export interface LoadedCatalog {
  catalog: Catalog;
  errors: CatalogError[];
  ignored: string[];
  files: string[];
}

/**
 * Loads catalog files and folders into a Catalog. Invalid documents are left out and reported in
 * `errors` (all of them, not only the first); the catalog holds everything that was valid.
 */
export async function loadCatalog(
  paths: readonly string[],
  opts: { baseDir?: string } = {},
): Promise<LoadedCatalog> {
  const parsed = await loadCatalogFiles(paths, opts);
  return {
    catalog: buildCatalog(parsed.entities),
    errors: parsed.errors,
    ignored: parsed.ignored,
    files: parsed.files,
  };
}

/** Thrown by callers that refuse a catalog with errors; the message lists every error. */
export class CatalogLoadError extends Error {
  constructor(readonly errors: readonly CatalogError[]) {
    super(
      `the catalog has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map((e) => `  ${e.text}`).join('\n')}`,
    );
    this.name = 'CatalogLoadError';
  }
}
