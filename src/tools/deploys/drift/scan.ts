import type { KubeResource, KubernetesProvider } from '../../../providers/kubernetes/types.js';
import { fieldOwners, type FieldOwner } from '../../../providers/kubernetes/managed-fields.js';
import { diffObject, type DriftChange } from './diff.js';
import { objectKey, type DesiredObject } from './desired-state.js';

/** The comparison of one desired object with its live counterpart. */
export interface ObjectDrift {
  key: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  file: string;
  /** in_sync, drifted, or missing (desired but not live). */
  status: 'in_sync' | 'drifted' | 'missing';
  changes: DriftChange[];
  /** The live object's resourceVersion; absent when missing. */
  resourceVersion?: string;
  /** Who set which live field, and when (metadata.managedFields): who made the drift. */
  managers?: FieldOwner[];
  manifest: Record<string, unknown>;
}

export interface ScanResult {
  objects: ObjectDrift[];
  /** Groups of objects that could not be read, and why. */
  failures: { what: string; error: unknown }[];
}

/**
 * Compares desired objects with the live cluster: one list call per (kind, namespace), then a
 * field-by-field diff per object. Secret values never appear in the changes.
 */
export async function scanDrift(
  k8s: KubernetesProvider,
  desired: readonly DesiredObject[],
): Promise<ScanResult> {
  const groups = new Map<string, DesiredObject[]>();
  for (const o of desired) {
    const g = `${o.apiVersion}|${o.kind}|${o.namespace ?? ''}`;
    const list = groups.get(g) ?? [];
    list.push(o);
    groups.set(g, list);
  }
  const objects: ObjectDrift[] = [];
  const failures: ScanResult['failures'] = [];
  await Promise.all(
    [...groups.values()].map(async (members) => {
      const first = members[0]!;
      let live: Map<string, KubeResource>;
      try {
        const items = await k8s.listObjects(first.apiVersion, first.kind, first.namespace);
        live = new Map(items.map((i) => [i.metadata.name, i]));
      } catch (error) {
        failures.push({ what: `${first.kind} in ${first.namespace ?? 'the cluster'}`, error });
        return;
      }
      for (const o of members) objects.push(compareOne(o, live.get(o.name)));
    }),
  );
  objects.sort((a, b) => a.key.localeCompare(b.key));
  return { objects, failures };
}

/** Compares one desired object with the live one (or its absence). */
export function compareOne(o: DesiredObject, live: KubeResource | undefined): ObjectDrift {
  const base = {
    key: objectKey(o),
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.namespace,
    name: o.name,
    file: o.file,
    manifest: o.manifest,
  };
  if (!live) return { ...base, status: 'missing', changes: [] };
  let changes = diffObject(o.manifest, live);
  if (o.kind === 'Secret')
    changes = changes.map((c) => ({
      path: c.path,
      op: c.op,
      ...(c.desired !== undefined ? { desired: '(hidden)' } : {}),
      ...(c.live !== undefined ? { live: '(hidden)' } : {}),
    }));
  return {
    ...base,
    status: changes.length ? 'drifted' : 'in_sync',
    changes,
    resourceVersion: live.metadata.resourceVersion,
    managers: fieldOwners(live.metadata.managedFields),
  };
}
