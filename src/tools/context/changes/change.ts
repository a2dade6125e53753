/** What the change ledger lists: one shape for every kind of change, whoever made it. */

export const CHANGE_KINDS = ['rollout', 'day2', 'edit', 'silence', 'downtime', 'incident', 'hold'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** How the ledger knows who made a change. */
export type ByHow = 'audit' | 'managedFields' | 'change-cause' | 'managed-by label' | 'createdBy' | 'unknown';

export interface Change {
  /** Stable id: `rollout:<namespace>/<deployment>#<revision>`, `day2:<audit seq>`, `silence:<id>`, ... */
  id: string;
  /** When it happened; null when no source says (the entry then sorts after what preceded it). */
  at: string | null;
  kind: ChangeKind;
  env: string;
  service?: string;
  /** One line. Parts quoted from backends (change-causes, comments, titles) are data. */
  what: string;
  /** A principal, a field manager (argocd-controller, kubectl-edit), or a silence's createdBy. */
  by: string;
  by_how: ByHow;
  /** Made through day2, with its governance trail (tool, approval, approvers, outcome). */
  day2: boolean;
  revision?: number;
  previous_revision?: number;
  /** A rollout's image before and after, as `name:tag`. */
  from?: string;
  to?: string;
  current?: boolean;
  change_cause?: string;
  tool?: string;
  approval_id?: string;
  approvers?: string[];
  outcome?: 'ok' | 'failed' | 'no outcome recorded';
  error?: string;
}

/** A change as the ledger merges, sorts and pages it; the extra fields never leave the ledger. */
export interface LedgerEntry extends Change {
  /** Milliseconds the entry sorts and windows by: `at`, or a lower bound when `at` is unknown. */
  sortAt: number;
  /** The action digest of the day2 write this entry is (or that made it). */
  digest?: string;
  /** The audit seq of that write's execute record. */
  seq?: number;
  /** A rollout's full image references (from and to are short `name:tag` forms). */
  image?: string;
  previous_image?: string;
}

/** The public part of an entry: what list_changes and day2://changes/{env} show. */
export function publicChange(e: LedgerEntry): Omit<Change, 'env'> {
  const { sortAt: _s, digest: _d, seq: _q, image: _i, previous_image: _p, env: _e, ...change } = e;
  return change;
}
