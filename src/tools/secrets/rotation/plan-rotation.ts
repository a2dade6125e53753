import { environmentConfig } from '../../../config/lookup.js';
import type { Deps } from '../../../contract/deps.js';
import type { Plan, Target } from '../../../contract/define-tool.js';
import { ToolError } from '../../../contract/define-tool.js';
import { resolveEnvWith } from '../../context/resolve-service.js';
import {
  alternateRole,
  parseDbCredential,
  requireDbCredential,
  type DbCredential,
} from './credential-value.js';
import { readKubeSecrets } from './secret-references.js';
import { SecretUsage } from './usage.js';
import { activeRotation } from './rotation-store.js';
import { needsRestart } from './run-rotation.js';
import { STEP_NAMES, type RotationDoc, type RotationTarget, type StepName, type Strategy } from './types.js';

export interface PlannedDependent {
  service: string;
  namespace: string;
  deployment: string;
  owner?: string;
}

/** What execution needs, decided by the plan (and bound into the approval through the digest). */
export interface PlannedRotation extends RotationTarget {
  host: string;
  port: number;
  current_version: string;
  dependents: PlannedDependent[];
  /** Services that use the secret but have no workload to restart. */
  not_restartable: string[];
  /** Set when an unfinished rotation of this secret exists: execution resumes it. */
  resume?: { rotation_id: string; from_step: StepName };
  /** A version carrying AWSPENDING that no running rotation owns. */
  pending_left_behind?: string;
}

export interface RotateArgs {
  env: string;
  service?: string;
  secret?: string;
  strategy?: Strategy;
  reason?: string;
}

const STEP_TEXT: Record<StepName, string> = {
  preflight:
    'notify the owners that the rotation starts (a failed notification stops it here, before anything changes)',
  create_secret:
    'store a new version labelled AWSPENDING with a password from GetRandomPassword (ClientRequestToken = the version id)',
  set_secret: 'set the password of the pending role in PostgreSQL (ALTER ROLE, sent as a SCRAM verifier)',
  test_secret: 'log in to the database with the pending credential',
  finish_secret: 'move AWSCURRENT to the new version (AWSPREVIOUS follows) and drop AWSPENDING',
  restart_dependents: 'restart each dependent in restart order and wait until it is ready',
  verify: 'check every dependent is ready and no new alert fires on it during the verify window',
  notify: 'tell the owners what changed and when',
};

/** Resolves the secret, database, role, strategy and dependents of a rotation, reading only. */
export async function planRotation(
  deps: Deps,
  args: RotateArgs,
): Promise<{ plan: Plan<PlannedRotation>; rotation: PlannedRotation }> {
  const env = resolveEnvWith(deps, args.env, 'secrets-manager');
  if (!args.secret && !args.service)
    throw new ToolError('say which credential: give service or secret', 'invalid_input', 'service');
  const sm = deps.backends.secrets(env);
  const svc = args.service ? deps.catalog.resolver.service(args.service, { env }) : undefined;

  const kube = deps.backends.has(env, 'kubernetes')
    ? await readKubeSecrets(deps.backends.kubernetes(env))
    : undefined;
  const usage = new SecretUsage(deps, env, kube);

  let secret = args.secret;
  let cred: DbCredential | undefined;
  if (!secret) {
    const names = deps.catalog
      .secretsFor(svc!.id, env)
      .filter((r) => r.store === 'aws')
      .map((r) => r.name);
    const found: { name: string; cred: DbCredential }[] = [];
    for (const name of names) {
      const v = await sm.getSecretValue(name, { versionStage: 'AWSCURRENT' }).catch(() => undefined);
      const c = v && !v.binary ? parseDbCredential(v.value) : undefined;
      if (c) found.push({ name, cred: c });
    }
    const preferred = svc?.dbRole
      ? found.filter((f) => f.cred.username === svc.dbRole || alternateRole(f.cred.username) === svc.dbRole)
      : [];
    const pick = preferred.length === 1 ? preferred : found;
    if (pick.length === 0)
      throw new ToolError(
        `service: ${svc!.id} has no PostgreSQL credential in ${env}${names.length ? ` (its secrets: ${names.join(', ')})` : ''}; name one with secret`,
        'not_found',
        'service',
      );
    if (pick.length > 1)
      throw new ToolError(
        `secret: ${svc!.id} has several database credentials in ${env} (${pick.map((p) => p.name).join(', ')}); say which with secret`,
        'ambiguous',
        'secret',
      );
    secret = pick[0]!.name;
    cred = pick[0]!.cred;
  }
  const meta = await sm.describeSecret(secret);
  const current = Object.entries(meta.versionStages).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  if (!current) throw new ToolError(`secret: ${secret} has no AWSCURRENT version`, 'not_rotatable', 'secret');
  if (!cred) {
    const v = await sm.getSecretValue(secret, { versionStage: 'AWSCURRENT' });
    cred = requireDbCredential(v.binary ? '' : v.value, secret);
  }

  const users = usage.awsUsers(secret);
  const service = svc?.id ?? users.find((u) => deps.catalog.service(u.service))?.service;
  const database = databaseKeyFor(deps, env, cred.dbname, service);
  const active = await activeRotation(deps.store, env, secret);
  const strategy: Strategy =
    active?.value.strategy ??
    args.strategy ??
    (cred.username.endsWith('_clone') ? 'alternating-users' : 'single-user');
  const role = active?.value.role ?? cred.username;
  const newRole = active?.value.new_role ?? (strategy === 'alternating-users' ? alternateRole(role) : role);

  const order = deps.catalog.restartOrder(users.map((u) => u.service));
  const ordered = [...order.order, ...users.map((u) => u.service).filter((s) => !order.order.includes(s))];
  const dependents: PlannedDependent[] = [];
  const notRestartable: string[] = [];
  for (const s of ordered) {
    const u = users.find((x) => x.service === s);
    const w = deps.catalog.workloadFor(s, env);
    const ns = u?.namespace ?? w?.namespace;
    const dep = u?.deployment ?? w?.name;
    if (ns && dep)
      dependents.push({ service: s, namespace: ns, deployment: dep, owner: deps.catalog.service(s)?.owner });
    else notRestartable.push(s);
  }
  const owners = ownerHandles(
    deps,
    [...(service ? [service] : []), ...dependents.map((d) => d.service)],
    meta.tags.team,
  );
  const notifyOwners = environmentConfig(deps.config, env)?.tier === 'production';
  const leftBehind = Object.entries(meta.versionStages).find(
    ([id, st]) =>
      st.includes('AWSPENDING') && !st.includes('AWSCURRENT') && id !== active?.value.pending_version,
  )?.[0];

  const rotation: PlannedRotation = {
    env,
    secret,
    service,
    strategy,
    database,
    dbname: cred.dbname,
    host: cred.host,
    port: cred.port,
    role,
    new_role: newRole,
    current_version: current,
    dependents,
    not_restartable: notRestartable,
    owners,
    notify_owners: notifyOwners,
    reason: args.reason,
    ...(active ? { resume: { rotation_id: active.value.id, from_step: resumeStep(active.value) } } : {}),
    ...(leftBehind ? { pending_left_behind: leftBehind } : {}),
  };

  const targets: Target[] = [
    { kind: 'secret', name: secret, ...(service ? { service } : {}) },
    { kind: 'database-role', name: `${cred.dbname}/${newRole}` },
    ...dependents.map((d) => ({
      kind: 'deployment',
      namespace: d.namespace,
      name: d.deployment,
      service: d.service,
    })),
  ];
  const summary = rotation.resume
    ? `resume rotation ${rotation.resume.rotation_id} of ${secret} in ${env} from step ${rotation.resume.from_step}`
    : `rotate ${secret} in ${env} (${strategy}, role ${newRole}@${cred.dbname}), then restart ${dependents.length} dependent(s)`;
  const plan: Plan<PlannedRotation> = {
    summary,
    env,
    service,
    targets,
    // The whole rotation execution runs is bound into the action digest: an approval for one state
    // of the secret (its AWSCURRENT version, a resume point, a stray AWSPENDING), one role or one
    // set of dependents cannot execute against another.
    preconditions: rotation,
    details: {
      secret,
      env,
      service,
      database,
      dbname: cred.dbname,
      role,
      new_role: newRole,
      strategy,
      current_version: current,
      dependents_in_restart_order: dependents,
      ...(notRestartable.length ? { not_restartable: notRestartable } : {}),
      ...(order.cycles.length ? { dependency_cycles: order.cycles } : {}),
      owners,
      notify_owners: notifyOwners,
      ...(args.reason ? { reason: args.reason } : {}),
      ...(rotation.resume ? { resume: rotation.resume } : {}),
      ...(leftBehind
        ? { pending_left_behind: `version ${leftBehind} still carries AWSPENDING; this rotation replaces it` }
        : {}),
      steps: STEP_NAMES.map((s) => ({ step: s, does: STEP_TEXT[s] })),
      way_back: wayBack(strategy),
      rotation,
    },
  };
  return { plan, rotation };
}

function resumeStep(doc: RotationDoc): StepName {
  if (needsRestart(doc)) return 'preflight';
  return doc.steps.find((s) => s.status !== 'done' && s.status !== 'skipped')?.name ?? 'notify';
}

function wayBack(strategy: Strategy): string {
  const early =
    'A failure before AWSCURRENT moves removes AWSPENDING' +
    (strategy === 'single-user' ? ' and sets the role back to the AWSCURRENT password' : '') +
    ', so the current credential keeps working.';
  const late =
    strategy === 'alternating-users'
      ? ' After AWSCURRENT moves, the previous user stays valid (AWSPREVIOUS) until the next rotation, so dependents not yet restarted keep working; to go back, move AWSCURRENT to the AWSPREVIOUS version.'
      : ' After AWSCURRENT moves, pods still running with the old password cannot open new connections until they restart (the single-user window); to go back, rotate again.';
  return early + late;
}

function databaseKeyFor(deps: Deps, env: string, dbname: string, service: string | undefined): string {
  const dbs = environmentConfig(deps.config, env)?.databases ?? {};
  for (const key of Object.keys(dbs)) {
    try {
      if (deps.backends.postgres.endpoint({ env, database: key }).dbname === dbname) return key;
    } catch {
      // A database whose URL cannot be read is not the one.
    }
  }
  const fromCatalog = service ? deps.catalog.service(service)?.databases.find((d) => dbs[d]) : undefined;
  if (fromCatalog) return fromCatalog;
  throw new ToolError(
    `secret: its database "${dbname}" is not configured in environments.${env}.databases, so day2 cannot change the role's password`,
    'not_configured',
    'secret',
  );
}

function ownerHandles(deps: Deps, services: string[], tagTeam: string | undefined): string[] {
  const out = new Set<string>();
  for (const s of services) {
    const owner = deps.catalog.service(s)?.owner;
    if (!owner) continue;
    const g = deps.catalog.group(owner);
    out.add(g?.slack ?? g?.email ?? owner);
  }
  if (out.size === 0 && tagTeam) out.add(tagTeam);
  return [...out].sort();
}
