/** Credential rotation as day2 records it: steps with status and times, never a secret value. */

export type Strategy = 'single-user' | 'alternating-users';

/** The steps of a rotation, in order. */
export const STEP_NAMES = [
  'preflight',
  'create_secret',
  'set_secret',
  'test_secret',
  'finish_secret',
  'restart_dependents',
  'verify',
  'notify',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'rolled_back';

export interface RotationStep {
  name: StepName;
  status: StepStatus;
  started_at?: string;
  finished_at?: string;
  /** What happened, in words: never a value. */
  note?: string;
}

export interface DependentState {
  service: string;
  namespace: string;
  deployment: string;
  owner?: string;
  status: 'pending' | 'restarted' | 'ready' | 'not_ready';
  restarted_at?: string;
  ready_at?: string;
  reason?: string;
}

/** in_progress: running or interrupted; failed: stopped with a working credential, resumable. */
export type RotationStatus = 'in_progress' | 'completed' | 'failed' | 'rolled_back';

/** Which credential a rotation changes, and how: shared by the plan and the persisted rotation. */
export interface RotationTarget {
  env: string;
  secret: string;
  service?: string;
  strategy: Strategy;
  /** Configured database key (`environments.<env>.databases.<key>`) used for the ALTER ROLE. */
  database: string;
  dbname: string;
  /** The login role of AWSCURRENT when the rotation started. */
  role: string;
  /** The login role of the new version (the same role for single-user, the alternate one otherwise). */
  new_role: string;
  reason?: string;
  notify_owners: boolean;
  owners: string[];
}

/** The persisted rotation (Store collection `rotations`). */
export interface RotationDoc extends RotationTarget {
  id: string;
  /** The ClientRequestToken, which is also the new version's id. */
  pending_version: string;
  /** The AWSCURRENT version when the rotation started. */
  previous_version: string;
  action_digest: string;
  requested_by: string;
  status: RotationStatus;
  steps: RotationStep[];
  dependents: DependentState[];
  created_at: string;
  updated_at: string;
  /** How many times an interrupted rotation was resumed. */
  resumed: number;
  /** Alert ids already firing on the dependents at the start; verify counts only new ones. */
  alert_baseline?: string[];
  error?: string;
}

export const ROTATIONS = 'rotations';
/** `${env}|${secret}` → the rotation that is not finished yet for that secret. */
export const ACTIVE_ROTATIONS = 'rotation-active';
