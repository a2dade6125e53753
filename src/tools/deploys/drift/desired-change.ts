import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { isMap, isSeq, parseAllDocuments, type Document } from 'yaml';
import { z } from 'zod';
import { environmentConfig } from '../../../config/lookup.js';
import type { Config } from '../../../config/schema.js';
import { DesiredStateError, loadDesiredState, objectKey } from './desired-state.js';

/** Largest diff returned; a longer one is cut and says so. */
const MAX_DIFF_CHARS = 4000;

export const desiredChangeShape = z
  .object({
    drift: z.string().describe('what the cluster change does to drift, in one sentence'),
    file: z.string().optional().describe('the desired-state file that defines the object'),
    diff: z
      .string()
      .optional()
      .describe('unified diff of that file that makes the change permanent (none when it already says so)'),
    note: z.string().optional().describe('why no diff is given (no desired state, object not in it)'),
  })
  .describe('the change to the desired state (GitOps) that keeps this cluster change from being drift');
export type DesiredChange = z.infer<typeof desiredChangeShape>;

/** One container field to set in a Deployment's pod template: `image`, `resources`. */
export interface ContainerEdit {
  container: string;
  set: Record<string, unknown>;
}

/**
 * What a direct cluster change to a Deployment container means for the desired state
 * (`environments.<env>.desired_state`): the file that defines the Deployment and a unified diff
 * that writes the same values there, so the change is not reverted by a sync or reported by
 * detect_drift. The YAML document is edited in place (comments and layout kept).
 */
export async function desiredStateChange(
  config: Config,
  env: string,
  target: { namespace: string; name: string },
  edit: ContainerEdit,
): Promise<DesiredChange> {
  const what = `Deployment ${target.namespace}/${target.name}`;
  const drift = `this changes the cluster only: until the desired state says the same, ${what} drifts from it (detect_drift reports it; a GitOps sync reverts it)`;
  const configured = environmentConfig(config, env)?.desired_state;
  if (!configured)
    return {
      drift,
      note: `no desired state configured for ${env} (environments.${env}.desired_state): make the same change where ${what} is defined`,
    };
  const folder = resolve(configured);
  let objects;
  try {
    objects = await loadDesiredState(folder);
  } catch (err) {
    if (err instanceof DesiredStateError || (err as NodeJS.ErrnoException).code === 'ENOENT')
      return {
        drift,
        note: `the desired state of ${env} cannot be read: ${(err as Error).message.slice(0, 200)}`,
      };
    throw err;
  }
  const key = objectKey({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: target.namespace,
    name: target.name,
  });
  const found = objects.find((o) => objectKey(o) === key);
  if (!found)
    return {
      drift,
      note: `${what} is not in the desired state of ${env} (${configured}): nothing to change there`,
    };
  const text = await readFile(join(folder, found.file), 'utf8');
  const after = found.file.endsWith('.json') ? editJson(text, target, edit) : editYaml(text, target, edit);
  if (after === undefined)
    return {
      drift,
      file: found.file,
      note: `container ${edit.container} is not in ${what} in ${found.file}: add it there`,
    };
  if (after === text)
    return { drift: `the desired state already says this (${found.file}): no drift`, file: found.file };
  let diff = createTwoFilesPatch(`a/${found.file}`, `b/${found.file}`, text, after, undefined, undefined, {
    context: 3,
  })
    // The library's leading "Index"/"====" banner is not part of a unified diff.
    .replace(/^=+\n/, '');
  if (diff.length > MAX_DIFF_CHARS)
    diff = `${diff.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)\n`;
  return { drift, file: found.file, diff };
}

function matches(o: unknown, target: { namespace: string; name: string }): boolean {
  const m = o as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
  return (
    m?.kind === 'Deployment' &&
    m.metadata?.name === target.name &&
    (m.metadata.namespace ?? target.namespace) === target.namespace
  );
}

/** The edited file, or undefined when the container is not in the object. */
function editYaml(
  text: string,
  target: { namespace: string; name: string },
  edit: ContainerEdit,
): string | undefined {
  const docs = parseAllDocuments(text) as Document[];
  for (const doc of docs) {
    const js = doc.toJS() as { kind?: string; items?: unknown[] } | null;
    const prefix: (string | number)[] | undefined = matches(js, target)
      ? []
      : js?.kind === 'List'
        ? (() => {
            const i = (js.items ?? []).findIndex((it) => matches(it, target));
            return i >= 0 ? ['items', i] : undefined;
          })()
        : undefined;
    if (!prefix) continue;
    const containers = doc.getIn([...prefix, 'spec', 'template', 'spec', 'containers']);
    if (!isSeq(containers)) return undefined;
    const idx = containers.items.findIndex((c) => isMap(c) && c.get('name') === edit.container);
    if (idx < 0) return undefined;
    const current = (
      (prefix.length ? (js as { items: unknown[] }).items[prefix[1] as number] : js) as {
        spec: { template: { spec: { containers: Record<string, unknown>[] } } };
      }
    ).spec.template.spec.containers[idx]!;
    for (const [field, value] of Object.entries(edit.set))
      if (JSON.stringify(current[field]) !== JSON.stringify(value))
        doc.setIn([...prefix, 'spec', 'template', 'spec', 'containers', idx, field], doc.createNode(value));
    return docs.map((d) => d.toString()).join('');
  }
  return undefined;
}

function editJson(
  text: string,
  target: { namespace: string; name: string },
  edit: ContainerEdit,
): string | undefined {
  const value = JSON.parse(text) as { kind?: string; items?: unknown[] };
  const obj = matches(value, target) ? value : (value.items ?? []).find((it) => matches(it, target));
  const containers = (
    obj as { spec?: { template?: { spec?: { containers?: { name?: string }[] } } } } | undefined
  )?.spec?.template?.spec?.containers;
  const c = containers?.find((x) => x.name === edit.container);
  if (!c) return undefined;
  const before = JSON.stringify(c);
  Object.assign(c, edit.set);
  return JSON.stringify(c) === before ? text : `${JSON.stringify(value, null, 2)}\n`;
}

/** The text lines of a DesiredChange: the drift warning, then the file and its diff (or the note). */
export function desiredStateLines(c: DesiredChange | undefined): string[] {
  if (!c) return [];
  return [
    `DRIFT: ${c.drift}.`,
    ...(c.diff ? [`To make it permanent, apply to ${c.file} in the desired state:`, c.diff.trimEnd()] : []),
    ...(c.note ? [c.note] : []),
  ];
}
