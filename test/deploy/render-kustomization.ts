import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/kubernetes', import.meta.url));

/** One rendered object, as kustomize prints it. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [field: string]: unknown;
}

/** Renders a kustomization under deploy/kubernetes (`base`, `overlays/postgres`) with kubectl's kustomize. */
export function renderKustomization(path: string): RenderedObject[] {
  const out = execFileSync('kubectl', ['kustomize', `${DEPLOY_DIR}/${path}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out).map((d) => d.toJS() as RenderedObject);
}

export function findObject(objects: readonly RenderedObject[], kind: string, name: string): RenderedObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`the rendered manifests have no ${kind} ${name}`);
  return o;
}
