import type { Store } from '../../store/store.js';
import { GRANTS_COLLECTION, type AccessGrant } from './grant.js';

const PAGE = 500;

/** Every grant day2 has recorded, oldest id first. */
export async function listGrants(store: Store): Promise<AccessGrant[]> {
  const out: AccessGrant[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listDocs<AccessGrant>(GRANTS_COLLECTION, PAGE, after);
    out.push(...page.map((d) => d.value));
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.id;
  }
}

export async function getGrant(store: Store, id: string): Promise<AccessGrant | undefined> {
  return (await store.getDoc<AccessGrant>(GRANTS_COLLECTION, id))?.value;
}

export async function saveGrant(store: Store, grant: AccessGrant): Promise<void> {
  await store.putDoc(GRANTS_COLLECTION, grant.id, grant);
}
