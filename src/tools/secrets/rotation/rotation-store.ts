import type { Store, StoredDoc } from '../../../store/store.js';
import { ACTIVE_ROTATIONS, ROTATIONS, type RotationDoc } from './types.js';

const activeKey = (env: string, secret: string) => `${env}|${secret}`;

export async function getRotation(store: Store, id: string): Promise<StoredDoc<RotationDoc> | undefined> {
  return store.getDoc<RotationDoc>(ROTATIONS, id);
}

/** The unfinished rotation of a secret (in progress, interrupted or failed after a change), if any. */
export async function activeRotation(
  store: Store,
  env: string,
  secret: string,
): Promise<StoredDoc<RotationDoc> | undefined> {
  const marker = await store.getDoc<{ rotation_id: string }>(ACTIVE_ROTATIONS, activeKey(env, secret));
  if (!marker) return undefined;
  const doc = await getRotation(store, marker.value.rotation_id);
  return doc && (doc.value.status === 'in_progress' || doc.value.status === 'failed') ? doc : undefined;
}

/** The newest rotation of a secret, finished or not. */
export async function latestRotation(
  store: Store,
  env: string,
  secret: string,
): Promise<StoredDoc<RotationDoc> | undefined> {
  const marker = await store.getDoc<{ rotation_id: string }>(ACTIVE_ROTATIONS, activeKey(env, secret));
  return marker ? getRotation(store, marker.value.rotation_id) : undefined;
}

/** Every env|secret marker, for the inventory: `rotation_in_progress` comes from here. */
export async function activeMarkers(store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let after: string | undefined;
  for (;;) {
    const page = await store.listDocs<{ rotation_id: string; status?: string }>(ACTIVE_ROTATIONS, 500, after);
    for (const d of page)
      if (d.value.status === 'in_progress' || d.value.status === 'failed') out.set(d.id, d.value.rotation_id);
    if (page.length < 500) return out;
    after = page[page.length - 1]!.id;
  }
}

/**
 * Persists a rotation with optimistic concurrency: two executions of the same rotation (two
 * replicas, a retried call) cannot both advance it; the loser gets VersionConflictError.
 */
export async function saveRotation(store: Store, doc: RotationDoc, expectedVersion: number): Promise<number> {
  const saved = await store.putDoc(ROTATIONS, doc.id, doc, expectedVersion);
  await store.putDoc(ACTIVE_ROTATIONS, activeKey(doc.env, doc.secret), {
    rotation_id: doc.id,
    status: doc.status,
  });
  return saved.version;
}

export { activeKey };
