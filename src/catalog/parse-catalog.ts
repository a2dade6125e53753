import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import {
  ANNOTATIONS,
  parseDatabases,
  parseSecrets,
  parseTier,
  parseUrl,
  parseWorkloads,
} from './annotations.js';
import { describeIssue, formatPath, lineOf } from './describe-issue.js';
import { envelopeSchema, SPEC_SCHEMAS } from './descriptor-schema.js';
import type { Entity } from './descriptor-schema.js';
import { compareText } from '../core/compare-text.js';

/** One problem in one catalog file; `text` is the whole sentence, ready to show. */
export interface CatalogError {
  file: string;
  document?: number;
  path: string;
  line?: number;
  message: string;
  text: string;
}

export interface ParsedCatalog {
  entities: Entity[];
  errors: CatalogError[];
  /** Descriptors of kinds day2 does not use (API, User, Domain, ...), as `kind:name@file`. */
  ignored: string[];
  /** Files that were read. */
  files: string[];
}

const ANNOTATION_CHECKS: Record<string, (v: string) => { ok: true } | { ok: false; error: string }> = {
  [ANNOTATIONS.kubernetesWorkload]: parseWorkloads,
  [ANNOTATIONS.secrets]: parseSecrets,
  [ANNOTATIONS.database]: parseDatabases,
  [ANNOTATIONS.tier]: parseTier,
  [ANNOTATIONS.runbook]: parseUrl,
};

function makeError(
  file: string,
  document: number | undefined,
  path: readonly PropertyKey[],
  message: string,
  line?: number,
): CatalogError {
  const where = formatPath(path);
  const text = [
    file,
    document !== undefined ? `document ${document}` : undefined,
    where || undefined,
    message,
  ]
    .filter((s) => s !== undefined)
    .join(': ');
  return {
    file,
    document,
    path: where,
    line,
    message,
    text: line !== undefined ? `${text} (line ${line})` : text,
  };
}

/**
 * Parses the text of one catalog file (multi-document YAML). Errors are collected, never thrown;
 * every error names the file, the document (when there are several) and the path inside it.
 */
export function parseCatalogText(text: string, file: string): ParsedCatalog {
  const out: ParsedCatalog = { entities: [], errors: [], ignored: [], files: [file] };
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  const list: Document.Parsed[] = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    out.errors.push(makeError(file, undefined, [], 'not a YAML document stream'));
    return out;
  }
  const numbered = list.length > 1;
  list.forEach((doc, i) => {
    const docNo = numbered ? i + 1 : undefined;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line;
        out.errors.push(makeError(file, docNo, [], `invalid YAML: ${e.message.split('\n')[0] ?? ''}`, line));
      }
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // empty document, e.g. a trailing ---
    const push = (issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[] = []) => {
      for (const issue of issues) {
        const path = [...prefix, ...issue.path];
        out.errors.push(makeError(file, docNo, path, describeIssue(issue), lineOf(doc, counter, path)));
      }
    };
    const env = envelopeSchema.safeParse(value);
    if (!env.success) return push(env.error.issues);
    const kind = env.data.kind.toLowerCase();
    if (!(kind in SPEC_SCHEMAS)) {
      out.ignored.push(`${kind}:${env.data.metadata.name}@${file}`);
      return;
    }
    const spec = SPEC_SCHEMAS[kind as keyof typeof SPEC_SCHEMAS].safeParse(env.data.spec ?? {});
    if (!spec.success) return push(spec.error.issues, ['spec']);
    let annotationsOk = true;
    for (const [key, val] of Object.entries(env.data.metadata.annotations ?? {})) {
      const check = ANNOTATION_CHECKS[key];
      const res = check?.(val);
      if (res && !res.ok) {
        annotationsOk = false;
        const path = ['metadata', 'annotations', key];
        out.errors.push(makeError(file, docNo, path, res.error, lineOf(doc, counter, path)));
      }
    }
    if (!annotationsOk) return;
    out.entities.push({ kind, metadata: env.data.metadata, spec: spec.data, source: file } as Entity);
  });
  return out;
}

const CATALOG_FILE = /^catalog-info\.ya?ml$/i;
const YAML_FILE = /\.ya?ml$/i;
const BACKSTAGE_API = /^\s*apiVersion:\s*['"]?backstage\.io\//m;

async function collectFiles(
  dir: string,
  shown: string,
  into: { path: string; shown: string; explicit: boolean }[],
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => compareText(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const full = join(dir, e.name);
    const label = shown === '' ? e.name : `${shown}/${e.name}`;
    if (e.isDirectory()) await collectFiles(full, label, into);
    else if (e.isFile() && YAML_FILE.test(e.name)) into.push({ path: full, shown: label, explicit: false });
  }
}

/**
 * Reads catalog files and folders. Folders are searched recursively for `catalog-info.yaml` and
 * any other `*.yaml`/`*.yml` that declares `apiVersion: backstage.io/...`; files named directly
 * are always parsed. Paths in errors are shown as given (folder + relative file).
 */
export async function loadCatalogFiles(
  paths: readonly string[],
  opts: { baseDir?: string } = {},
): Promise<ParsedCatalog> {
  const out: ParsedCatalog = { entities: [], errors: [], ignored: [], files: [] };
  const files: { path: string; shown: string; explicit: boolean }[] = [];
  for (const p of paths) {
    // resolve, not join: an absolute path (as day2 sandbox writes) stays itself.
    const full = opts.baseDir ? resolve(opts.baseDir, p) : p;
    let st;
    try {
      st = await stat(full);
    } catch {
      out.errors.push(makeError(p, undefined, [], 'no such file or folder'));
      continue;
    }
    if (st.isDirectory()) await collectFiles(full, p.replace(/\/+$/, ''), files);
    else files.push({ path: full, shown: p, explicit: true });
  }
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f.path, 'utf8');
    } catch (e) {
      out.errors.push(makeError(f.shown, undefined, [], `cannot read: ${(e as Error).message}`));
      continue;
    }
    if (!f.explicit && !CATALOG_FILE.test(basename(f.path)) && !BACKSTAGE_API.test(text)) continue;
    const parsed = parseCatalogText(text, f.shown);
    out.entities.push(...parsed.entities);
    out.errors.push(...parsed.errors);
    out.ignored.push(...parsed.ignored);
    out.files.push(f.shown);
  }
  return out;
}
