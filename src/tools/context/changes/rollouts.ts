import type { Deps } from '../../../contract/deps.js';
import type { DeploymentInfo, RevisionInfo } from '../../../providers/kubernetes/types.js';
import {
  pathStartsWith,
  type FieldOwner,
  type FieldPath,
} from '../../../providers/kubernetes/managed-fields.js';
import { serviceOf, parseImage } from '../deployments.js';
import { untrusted } from '../gather.js';
import { CHANGE_CAUSE, day2Cause } from './cause.js';
import type { ByHow, LedgerEntry } from './change.js';

/** A ReplicaSet as the ledger reads it: a revision history entry of one Deployment. */
export type NamespacedRevision = RevisionInfo & { namespace: string };

const TEMPLATE: FieldPath = ['spec', 'template'];
const MANAGED_BY = 'app.kubernetes.io/managed-by';
/** `argocd: sync checkout 2.8.0` → argocd: the convention CD tools and people write change-causes in. */
const CAUSE_AUTHOR = /^([A-Za-z0-9][\w.@-]{0,40}):\s/;

/** One revision number and the ReplicaSet that held it (a rollback reuses a ReplicaSet under a new number). */
interface Held {
  revision: number;
  rs: NamespacedRevision;
  /** The ReplicaSet's newest number: only it carries the annotations of its own rollout. */
  latest: boolean;
  /** The ReplicaSet's first number: its creation time is this revision's rollout. */
  first: boolean;
  /** The day2 action the ReplicaSet's annotations name, on its latest number only. */
  key?: string;
}

/**
 * Every rollout in the ReplicaSet history of `deployments`, oldest revision to newest, each with
 * the image that ran before it (the revision just below, wherever that ReplicaSet went), when it
 * happened and who made it: day2 by its own annotations, else the field manager that owns the pod
 * template (current revision), else the change-cause's author, else the managed-by label.
 */
export function rolloutEntries(
  deps: Deps,
  env: string,
  deployments: readonly DeploymentInfo[],
  revisions: readonly NamespacedRevision[],
  /** Rollouts known to be older than this (ms) are left out, unless day2 made them: they only count as what ran before. */
  since = 0,
): LedgerEntry[] {
  const owned = new Map<string, NamespacedRevision[]>();
  for (const r of revisions) {
    if (!r.deployment) continue;
    const key = `${r.namespace}/${r.deployment}`;
    const list = owned.get(key) ?? [];
    list.push(r);
    owned.set(key, list);
  }
  const out: LedgerEntry[] = [];
  for (const d of deployments) {
    const history = owned.get(`${d.namespace}/${d.name}`);
    if (history?.length) out.push(...deploymentRollouts(deps, env, d, history, since));
  }
  return out;
}

function deploymentRollouts(
  deps: Deps,
  env: string,
  d: DeploymentInfo,
  history: NamespacedRevision[],
  since: number,
): LedgerEntry[] {
  const held: Held[] = [];
  for (const rs of history) {
    if (!rs.revisionHistory?.length) {
      held.push({ revision: rs.revision, rs, latest: true, first: true, key: claimKey(rs) });
      continue;
    }
    const numbers = [...new Set([...rs.revisionHistory, rs.revision])].filter((n) => n > 0);
    const first = Math.min(...numbers);
    for (const n of numbers)
      held.push({
        revision: n,
        rs,
        latest: n === rs.revision,
        first: n === first,
        key: n === rs.revision ? claimKey(rs) : undefined,
      });
  }
  held.sort((a, b) => a.revision - b.revision);
  // An approval annotation the Deployment still carries is copied to every later ReplicaSet until
  // something overwrites it: only the lowest revision that carries a day2 action made it.
  const claimedBy = new Map<string, number>();
  for (const h of held) if (h.key && !claimedBy.has(h.key)) claimedBy.set(h.key, h.revision);
  const owners = { image: templateOwner(d.managers, true), any: templateOwner(d.managers, false) };
  let service: string | undefined;
  const out: LedgerEntry[] = [];
  let lowerBound = 0;
  held.forEach((h, i) => {
    const prev = held[i - 1];
    const to = h.rs.images[0]?.image ?? '';
    const from = prev?.rs.images[0]?.image;
    const current = h.revision === d.revision;
    const claimant = h.key ? claimedBy.get(h.key) : undefined;
    const day2 = h.key && claimant === h.revision ? day2Cause(h.rs.annotations) : undefined;
    const imageChanged = from !== to;
    const owner = imageChanged ? owners.image : owners.any;
    const at = rolloutTime(h, current, owner);
    const sortAt = at ? Date.parse(at) : lowerBound;
    lowerBound = Math.max(lowerBound, sortAt);
    // Outside the window and not day2's (whose audited write may still date it): nothing to list.
    if (at && sortAt < since && !day2) return;
    service ??= serviceOf(deps, env, d);
    const who = day2
      ? { by: day2.principal ?? 'day2', by_how: 'change-cause' as ByHow }
      : whoRolledOut(h, current ? owner : undefined, d);
    const cause = h.latest ? h.rs.changeCause : undefined;
    const copied = h.key && claimant !== h.revision ? claimant : undefined;
    const entry: LedgerEntry = {
      id: `rollout:${d.namespace}/${d.name}#${h.revision}`,
      at,
      sortAt,
      kind: 'rollout',
      env,
      service,
      what: `${d.name} revision ${h.revision}: ${from ? `${tagOf(from)} → ` : ''}${tagOf(to)}${imageChanged ? '' : ' (same image)'}`,
      by: who.by,
      by_how: who.by_how,
      day2: day2 !== undefined,
      revision: h.revision,
      to: tagOf(to),
      image: to,
    };
    if (prev) entry.previous_revision = prev.revision;
    if (from) {
      entry.from = tagOf(from);
      entry.previous_image = from;
    }
    if (current) entry.current = true;
    if (cause)
      entry.change_cause =
        untrusted(cause, 120) + (copied !== undefined ? ` (copied from revision ${copied})` : '');
    if (day2?.tool) entry.tool = day2.tool;
    if (day2?.approval_id) entry.approval_id = day2.approval_id;
    if (day2?.digest) entry.digest = day2.digest;
    out.push(entry);
  });
  return out;
}

/** The day2 action a ReplicaSet's annotations name (an automatic rollback apart from its forward rollout). */
function claimKey(rs: NamespacedRevision): string | undefined {
  const c = day2Cause(rs.annotations);
  if (!c) return undefined;
  const cause = rs.annotations?.[CHANGE_CAUSE] ?? '';
  return `${c.digest ?? c.approval_id ?? cause}|${cause.includes('(automatic rollback)')}`;
}

/**
 * When a revision rolled out: its ReplicaSet's creation for the first number it held; for the
 * current revision of a reused ReplicaSet, the last write to the Deployment's pod template
 * (managedFields); otherwise unknown.
 */
function rolloutTime(h: Held, current: boolean, owner: FieldOwner | undefined): string | null {
  if (h.first) return h.rs.createdAt ?? null;
  if (current) return owner?.time ?? null;
  return null;
}

function whoRolledOut(
  h: Held,
  owner: FieldOwner | undefined,
  d: DeploymentInfo,
): { by: string; by_how: ByHow } {
  if (owner) return { by: owner.manager, by_how: 'managedFields' };
  const author = h.latest ? CAUSE_AUTHOR.exec(h.rs.changeCause ?? '')?.[1] : undefined;
  if (author) return { by: author, by_how: 'change-cause' };
  const label = d.labels[MANAGED_BY];
  if (label) return { by: untrusted(label, 40), by_how: 'managed-by label' };
  return { by: 'unknown', by_how: 'unknown' };
}

/**
 * The manager that wrote the current pod template: for a new image, the one that owns a container
 * image (a release); otherwise (a restart, a resources change) the newest owner of any template field.
 */
function templateOwner(managers: FieldOwner[] | undefined, imageChanged: boolean): FieldOwner | undefined {
  const template = (managers ?? []).filter(
    (m) => !m.subresource && m.fields.some((f) => pathStartsWith(f, TEMPLATE)),
  );
  const image = template.find((m) =>
    m.fields.some((f) => pathStartsWith(f, TEMPLATE) && f.includes('containers') && f.at(-1) === 'image'),
  );
  return (imageChanged ? image : undefined) ?? template[0];
}

/** `checkout:2.8.0` from a full image reference. */
export function tagOf(image: string): string {
  const p = parseImage(image);
  return `${p.repository.split('/').at(-1) ?? p.repository}:${p.tag}`;
}
