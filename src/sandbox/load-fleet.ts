import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import type { Catalog } from '../catalog/catalog.js';
import { describeIssue, formatPath, lineOf } from '../catalog/describe-issue.js';
import { mergeKubernetesLabels, type KubernetesWorkloadLabels } from '../catalog/kubernetes-labels.js';
import { loadCatalog } from '../catalog/load-catalog.js';
import type { Clock } from '../core/clock.js';
import { createFleetSchema } from './fleet-schema.js';
import type { Fleet } from './fleet-schema.js';

/** A fleet file that cannot be used; `problems` holds one sentence per problem (file: path: what). */
export class FleetLoadError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`the fleet ${file} is invalid:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'FleetLoadError';
  }
}

export interface LoadedFleet {
  fleet: Fleet;
  /** The fleet's catalog merged with the labels of every deployment in every environment. */
  catalog: Catalog;
  /** The fleet file, and the folder relative paths in it are resolved against. */
  file: string;
  dir: string;
  /** `<desired_state>/<env>` folders, absolute, per environment that has one. */
  desiredState: Record<string, string>;
  /** The clock reading relative times were resolved against. */
  now: Date;
}

/**
 * Parses fleet YAML text (no catalog, no file access). `file` is only used in error messages.
 * Throws FleetLoadError listing every problem with its path in the file.
 */
export function parseFleetText(text: string, file: string, opts: { now: Date }): Fleet {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new FleetLoadError(
      file,
      doc.errors.map(
        (e) =>
          `${file}: invalid YAML: ${e.message.split('\n')[0] ?? ''}${e.linePos?.[0] ? ` (line ${e.linePos[0].line})` : ''}`,
      ),
    );
  }
  const parsed = createFleetSchema(opts.now).safeParse(doc.toJS());
  if (!parsed.success) {
    throw new FleetLoadError(
      file,
      parsed.error.issues.map((issue) => {
        const where = formatPath(issue.path);
        const line = lineOf(doc, counter, issue.path);
        return `${file}: ${where ? `${where}: ` : ''}${describeIssue(issue)}${line !== undefined ? ` (line ${line})` : ''}`;
      }),
    );
  }
  return parsed.data;
}

/**
 * Loads a fleet file: reads the YAML, validates it, resolves relative times against `now`, loads
 * the catalog files it names (relative to the fleet file) and links every deployment to the
 * catalog. Errors name the file and the path inside it.
 */
export async function loadFleet(
  path: string,
  opts: { now?: Date; clock?: Clock } = {},
): Promise<LoadedFleet> {
  const now = opts.now ?? opts.clock?.now() ?? new Date();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new FleetLoadError(path, [`${path}: cannot read: ${(e as Error).message}`]);
  }
  const fleet = parseFleetText(text, path, { now });
  const dir = dirname(resolve(path));
  const loaded = await loadCatalog(fleet.catalog, { baseDir: dir });
  if (loaded.errors.length > 0)
    throw new FleetLoadError(
      path,
      loaded.errors.map((e) => e.text),
    );
  const workloads = fleetWorkloads(fleet);
  const desiredState: Record<string, string> = {};
  if (fleet.desired_state !== undefined) {
    for (const env of Object.keys(fleet.environments)) {
      const folder = join(dir, fleet.desired_state, env);
      if (existsSync(folder)) desiredState[env] = folder;
    }
  }
  return {
    fleet,
    catalog: mergeKubernetesLabels(loaded.catalog, workloads),
    file: resolve(path),
    dir,
    desiredState,
    now,
  };
}

/** The fleet's Deployments with their labels: what the catalog merges, as it does a cluster's. */
export function fleetWorkloads(fleet: Fleet): KubernetesWorkloadLabels[] {
  return Object.entries(fleet.environments).flatMap(([env, e]) =>
    e.deployments.map((d) => ({
      env,
      namespace: d.namespace,
      name: d.name,
      labels: d.labels,
      annotations: d.annotations,
    })),
  );
}

/** The package root: the nearest folder upward from this module that holds day2's package.json. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'sandbox', 'fleet'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the day2 package root above ${from}`);
  }
}

/**
 * Path of the built-in demo fleet. The YAML is not compiled, so it is found from the package root;
 * this works from src/ under tsx and from dist/ after tsc.
 */
export function builtinFleetPath(): string {
  return join(packageRoot(), 'src', 'sandbox', 'fleet', 'demo.yaml');
}
