import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, type Config } from './schema.js';
import { formatZodIssues } from '../core/format-issues.js';

export interface LoadedConfig {
  config: Config;
  /** Folder relative paths in the config resolve against. */
  baseDir: string;
  /** The file read, or undefined for the built-in sandbox defaults. */
  path?: string;
  /** Store location after DAY2_STORE: a SQLite path or a postgres:// URL. */
  store: string;
}

/** Every problem found in a config file, each naming the field's path and what was expected. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export const DEFAULT_STORE = './.day2/day2.db';

/**
 * Reads day2.yaml: the path from --config, else ./day2.yaml, else none (the built-in sandbox).
 * Validates all of it with zod and reports every bad field at once.
 */
export function loadConfig(
  opts: { path?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const candidate = opts.path ? resolve(cwd, opts.path) : resolve(cwd, 'day2.yaml');
  let raw: unknown = {};
  let path: string | undefined;
  if (opts.path || existsSync(candidate)) {
    path = candidate;
    let text: string;
    try {
      text = readFileSync(candidate, 'utf8');
    } catch (err) {
      throw new ConfigError([
        `${candidate}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      ]);
    }
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length) {
      throw new ConfigError(
        doc.errors.map(
          (e) => `${candidate}: line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`,
        ),
      );
    }
    raw = doc.toJS() ?? {};
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatZodIssues(parsed.error, path ?? 'config'));
  const baseDir = path ? dirname(path) : cwd;
  const storeSpec = env.DAY2_STORE?.trim() || parsed.data.store.url || DEFAULT_STORE;
  const store = /^postgres(ql)?:\/\//.test(storeSpec) ? storeSpec : resolve(baseDir, storeSpec);
  return { config: parsed.data, baseDir, path, store };
}

/** Validates a config without building anything: the `day2 config check` command. */
export function checkConfig(opts: {
  path?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}): { ok: true; summary: string } | { ok: false; problems: string[] } {
  try {
    const loaded = loadConfig(opts);
    const envs = Object.entries(loaded.config.environments).map(([name, e]) => `${name} (${e.tier})`);
    return {
      ok: true,
      summary: `${loaded.path ?? 'built-in defaults'}: valid; environments: ${envs.join(', ') || 'none'}; store: ${redactUrl(loaded.store)}`,
    };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.problems };
    throw err;
  }
}

function redactUrl(spec: string): string {
  return spec.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
