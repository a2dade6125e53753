import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One object of the desired state, with the file it came from (relative to the folder). */
export interface DesiredObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  file: string;
  manifest: Record<string, unknown>;
}

/** A desired-state folder that cannot be read; `problems` names each file and document. */
export class DesiredStateError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `the desired state cannot be read: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`,
    );
    this.name = 'DesiredStateError';
  }
}

/** The identity of an object across desired and live: apiVersion, kind, namespace, name. */
export function objectKey(o: { apiVersion: string; kind: string; namespace?: string; name: string }): string {
  return `${o.apiVersion}|${o.kind}|${o.namespace ?? ''}|${o.name}`;
}

/**
 * Reads every Kubernetes manifest (`*.yaml`, `*.yml`, `*.json`, multi-document, `kind: List`
 * expanded) under a folder, as a GitOps checkout holds them. Objects without a namespace get
 * `defaultNamespace` when the caller names one.
 */
export async function loadDesiredState(
  folder: string,
  opts: { defaultNamespace?: string } = {},
): Promise<DesiredObject[]> {
  const files = await manifestFiles(folder);
  const out: DesiredObject[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const rel = relative(folder, file);
    const docs = parseAllDocuments(await readFile(file, 'utf8'));
    docs.forEach((doc, i) => {
      if (doc.errors.length > 0) {
        problems.push(
          `${rel} document ${i + 1}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0] ?? ''}`,
        );
        return;
      }
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) return;
      const items =
        isObj(value) && value.kind === 'List' && Array.isArray(value.items)
          ? (value.items as unknown[])
          : [value];
      for (const item of items) {
        if (
          !isObj(item) ||
          typeof item.apiVersion !== 'string' ||
          typeof item.kind !== 'string' ||
          !isObj(item.metadata) ||
          typeof item.metadata.name !== 'string'
        ) {
          problems.push(
            `${rel} document ${i + 1}: not a Kubernetes object (needs apiVersion, kind and metadata.name)`,
          );
          continue;
        }
        const meta = item.metadata;
        const namespace = typeof meta.namespace === 'string' ? meta.namespace : opts.defaultNamespace;
        if (namespace && meta.namespace === undefined) meta.namespace = namespace;
        const obj: DesiredObject = {
          apiVersion: item.apiVersion,
          kind: item.kind,
          namespace,
          name: meta.name as string,
          file: rel,
          manifest: item,
        };
        const key = objectKey(obj);
        const before = seen.get(key);
        if (before)
          problems.push(`${rel}: ${obj.kind} ${namespace ?? ''}/${obj.name} is also defined in ${before}`);
        seen.set(key, rel);
        out.push(obj);
      }
    });
  }
  if (problems.length > 0) throw new DesiredStateError(problems);
  return out;
}

async function manifestFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/i.test(e.name) && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
