import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Deps } from '../../contract/deps.js';
import type { Store } from '../../store/store.js';
import { parseImageRef } from '../../providers/registry/image-ref.js';

/**
 * Holds on known-bad versions: once a version has been rolled back (or named as the cause when an
 * incident is resolved), no day2 tool offers it again in that environment until a person releases
 * the hold. Every tool that proposes or applies an image asks here, so that after a rollback
 * drift, patch and backlog views agree with the rollback instead of offering to undo it.
 */
export interface Hold {
  id: string;
  env: string;
  /** The catalog service, where the workload has one; else the workload's namespace/name. */
  service: string;
  namespace?: string;
  deployment?: string;
  container?: string;
  /** The image as it ran, digest included where the cluster had one. */
  image: string;
  reason: string;
  held_by: string;
  /** What put it in place: a rollback's approval, or the incident that named the version. */
  approval_id?: string;
  incident_id?: string;
  source: 'rollback' | 'incident';
  created_at: string;
  released?: { at: string; by: string; reason: string; approval_id?: string };
}

export const HOLDS = 'holds';

export function newHoldId(): string {
  return `hold_${randomBytes(6).toString('hex')}`;
}

export async function saveHold(store: Store, hold: Hold): Promise<Hold> {
  return (await store.putDoc(HOLDS, hold.id, hold)).value;
}

export async function getHold(store: Store, id: string): Promise<Hold | undefined> {
  return (await store.getDoc<Hold>(HOLDS, id))?.value;
}

/** Holds in force (not released), optionally narrowed to an environment and a service. */
export async function activeHolds(
  deps: Pick<Deps, 'store'>,
  filter: { env?: string; service?: string } = {},
): Promise<Hold[]> {
  return (await allHolds(deps, filter)).filter((h) => !h.released);
}

/** Every hold, released ones included (the change ledger lists both events), newest first. */
export async function allHolds(
  deps: Pick<Deps, 'store'>,
  filter: { env?: string; service?: string } = {},
): Promise<Hold[]> {
  const out: Hold[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await deps.store.listDocs<Hold>(HOLDS, 500, after);
    for (const d of page)
      if (
        (!filter.env || d.value.env === filter.env) &&
        (!filter.service || d.value.service === filter.service)
      )
        out.push(d.value);
    if (page.length < 500) break;
    after = page[page.length - 1]!.id;
  }
  return out.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/**
 * Whether a hold on `held` covers `image`: the same repository, and the same digest (the very
 * build, whatever tag it is pushed under next) or the same tag (what people name; a desired-state
 * file rarely pins the digest the cluster ran, and a tag pushed again over a bad build is still
 * the version a rollback named).
 */
export function sameImage(held: string, image: string): boolean {
  const x = parseImageRef(held);
  const y = parseImageRef(image);
  if (x.repository !== y.repository || (x.host ?? '') !== (y.host ?? '')) return false;
  return (!!x.digest && x.digest === y.digest) || (x.tag !== undefined && x.tag === y.tag);
}

/** The hold, among `holds`, that holds back `image`. */
export function holdOn(holds: readonly Hold[], image: string): Hold | undefined {
  return holds.find((h) => sameImage(h.image, image));
}

/** The version part of an image for people: `checkout:2.8.0`. */
export function shortImage(image: string): string {
  const r = parseImageRef(image);
  const name = r.repository.slice(r.repository.lastIndexOf('/') + 1);
  return `${name}${r.tag ? `:${r.tag}` : r.digest ? `@${r.digest.slice(0, 19)}` : ''}`;
}

/** What put a hold in place, in a few words: "rollback apr_…" or "incident inc_…". */
export function holdOrigin(h: Hold): string {
  return h.source === 'rollback'
    ? `rollback${h.approval_id ? ` ${h.approval_id}` : ''}`
    : `incident${h.incident_id ? ` ${h.incident_id}` : ''}`;
}

/** One line that says why a held version is not offered. */
export function heldWhy(h: Hold): string {
  return holdLine(holdView(h));
}

/** heldWhy for a hold as tools return it. */
export function holdLine(h: z.infer<typeof holdShape>): string {
  return `${shortImage(h.image)} is held in ${h.env} since ${h.origin} (${h.id}, ${h.created_at.slice(0, 16)}Z by ${h.held_by}: ${h.reason})`;
}

/** Refuses a write that would put a held image back, unless the request says override_hold. */
export function holdRefusal(
  holds: readonly Hold[],
  images: readonly string[],
  override: boolean | undefined,
): string | undefined {
  if (override) return undefined;
  const hit = images.map((i) => holdOn(holds, i)).find((h) => h !== undefined);
  return hit
    ? `${heldWhy(hit)}; update the desired state to another version, release the hold (release_hold), or call again with override_hold: true, which the approver will see`
    : undefined;
}

export const overrideHoldField = z
  .boolean()
  .optional()
  .describe('put back a version a hold marks bad (the approver sees it)');

export const holdShape = z.object({
  id: z.string(),
  env: z.string(),
  service: z.string(),
  image: z.string(),
  reason: z.string(),
  held_by: z.string(),
  origin: z.string().describe('rollback <approval id> or incident <incident id>'),
  created_at: z.string(),
});

export function holdView(h: Hold): z.infer<typeof holdShape> {
  return {
    id: h.id,
    env: h.env,
    service: h.service,
    image: h.image,
    reason: h.reason,
    held_by: h.held_by,
    origin: holdOrigin(h),
    created_at: h.created_at,
  };
}
