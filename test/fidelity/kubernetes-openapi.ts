import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** The Kubernetes OpenAPI v3 documents in ../shared/fidelity (or DAY2_FIDELITY_DIR). */
export const KUBERNETES_OPENAPI_DIR = join(
  process.env.DAY2_FIDELITY_DIR ?? join(repo, '..', 'shared', 'fidelity'),
  'kubernetes',
);
export const KUBERNETES_OPENAPI_DOCS = {
  core: 'api__v1_openapi.json',
  apps: 'apis__apps__v1_openapi.json',
  autoscaling: 'apis__autoscaling__v2_openapi.json',
  rbac: 'apis__rbac.authorization.k8s.io__v1_openapi.json',
} as const;
export type KubernetesOpenApiDoc = keyof typeof KUBERNETES_OPENAPI_DOCS;

/** Whether every document is there (the fidelity tests skip, saying so, when it is not). */
export const kubernetesOpenApiPresent = Object.values(KUBERNETES_OPENAPI_DOCS).every((f) =>
  existsSync(join(KUBERNETES_OPENAPI_DIR, f)),
);

/**
 * Object schemas in the OpenAPI documents leave additionalProperties open; close them so that a
 * field the real API server would never send (or accept) is flagged.
 */
function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node))
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, closeObjects(s)]))
        : closeObjects(v);
  if ('properties' in out && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

/** A validator for one named schema (`io.k8s.api.apps.v1.Deployment`) of one document. */
export function buildKubernetesValidator(): (doc: KubernetesOpenApiDoc, schema: string) => ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
  ajv.addFormat('date-time', DATE_TIME);
  for (const f of ['int32', 'int64', 'double', 'byte', 'int-or-string']) ajv.addFormat(f, true);
  for (const [id, file] of Object.entries(KUBERNETES_OPENAPI_DOCS)) {
    const doc = JSON.parse(readFileSync(join(KUBERNETES_OPENAPI_DIR, file), 'utf8')) as {
      components: unknown;
    };
    ajv.addSchema({ $id: id, components: closeObjects(doc.components) });
  }
  return (doc, schema) => ajv.compile({ $ref: `${doc}#/components/schemas/${schema}` });
}
