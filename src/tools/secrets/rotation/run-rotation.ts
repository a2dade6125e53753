import { createHash } from 'node:crypto';
import type { Deps } from '../../../contract/deps.js';
import type { Notification } from '../../../providers/notify/notifier.js';
import { ToolError } from '../../../contract/define-tool.js';
import { BackendError } from '../../../providers/errors.js';
import { collectAlerts } from '../../context/alerts.js';
import { VersionConflictError } from '../../../store/store.js';
import { requireDbCredential, baseRole, nextCredentialValue } from './credential-value.js';
import { ensureAlternateRole, setRolePassword } from './pg-roles.js';
import type { PlannedRotation } from './plan-rotation.js';
import { activeRotation, getRotation, saveRotation } from './rotation-store.js';
import { STEP_NAMES, type RotationDoc, type RotationStep, type StepName } from './types.js';

/** Test seams: `afterEffect` runs after a step changed the world and before day2 records it. */
export interface RotationHooks {
  afterEffect?(step: StepName, doc: RotationDoc): void | Promise<void>;
}

export interface RunRotationOptions {
  actionDigest: string;
  principal: string;
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
  signal?: AbortSignal;
  hooks?: RotationHooks;
}

/** Steps before AWSCURRENT moves: a failure there is rolled back. */
const EARLY: ReadonlySet<StepName> = new Set([
  'preflight',
  'create_secret',
  'set_secret',
  'test_secret',
  'finish_secret',
]);

/** The ClientRequestToken of a rotation: a UUID derived from the approval's action digest. */
export function requestTokenFor(digest: string): string {
  const h = createHash('sha256').update(`day2-rotation:${digest}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Runs (or resumes) a rotation to its end, persisting every step before and after it acts, so
 * that a process killed at any point leaves a record a later call resumes from. Failures before
 * AWSCURRENT moves are rolled back (AWSPENDING removed, a single-user role's password restored);
 * failures after it leave a working credential and a resumable rotation.
 */
export async function runRotation(
  deps: Deps,
  planned: PlannedRotation,
  opts: RunRotationOptions,
): Promise<RotationDoc> {
  const r = new RotationRun(deps, planned, opts);
  return r.run();
}

class RotationRun {
  private doc!: RotationDoc;
  private version = 0;
  private done = 0;
  private readonly total: number;

  constructor(
    private readonly deps: Deps,
    private readonly planned: PlannedRotation,
    private readonly opts: RunRotationOptions,
  ) {
    this.total = STEP_NAMES.length + planned.dependents.length;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private notifier() {
    const n = this.deps.notifier;
    if (!n)
      throw new ToolError(
        'no notifier is configured, and this rotation must notify the owners',
        'notify_failed',
      );
    return {
      send: (msg: Notification) =>
        n.send(msg).catch((err: unknown) => {
          throw new ToolError(`the owners could not be notified (${describe(err)})`, 'notify_failed');
        }),
    };
  }

  private get sm() {
    return this.deps.backends.secrets(this.planned.env);
  }

  async run(): Promise<RotationDoc> {
    await this.load();
    for (const name of STEP_NAMES) {
      const step = this.step(name);
      if (step.status === 'done' || step.status === 'skipped') {
        this.done++;
        continue;
      }
      this.opts.signal?.throwIfAborted();
      step.status = 'running';
      step.started_at = this.now();
      await this.save();
      await this.opts.progress?.(this.done, this.total, `${name}: started`);
      let note: string;
      try {
        note = await this.perform(name);
      } catch (err) {
        return this.fail(name, err);
      }
      // Outside the try: a hook that throws stands for a process killed mid-step (no rollback runs).
      await this.opts.hooks?.afterEffect?.(name, this.doc);
      step.status = note.startsWith('skipped') ? 'skipped' : 'done';
      step.finished_at = this.now();
      step.note = note;
      this.done++;
      await this.save();
      await this.opts.progress?.(this.done, this.total, `${name}: ${note}`);
    }
    this.doc.status = 'completed';
    delete this.doc.error;
    await this.save();
    return this.doc;
  }

  private step(name: StepName): RotationStep {
    return this.doc.steps.find((s) => s.name === name)!;
  }

  private async load(): Promise<void> {
    const p = this.planned;
    if (p.resume) {
      const stored = await getRotation(this.deps.store, p.resume.rotation_id);
      if (!stored || (stored.value.status !== 'in_progress' && stored.value.status !== 'failed'))
        throw new ToolError(
          `rotation ${p.resume.rotation_id} is no longer unfinished; plan again`,
          'conflict',
          'secret',
        );
      this.doc = {
        ...stored.value,
        status: 'in_progress',
        resumed: stored.value.resumed + 1,
        updated_at: this.now(),
      };
      this.version = stored.version;
      if (needsRestart(this.doc)) await this.restartFromScratch();
      await this.save();
      return;
    }
    const id = `rot-${this.opts.actionDigest.slice(0, 16)}`;
    const existing = await getRotation(this.deps.store, id);
    if (existing) {
      // The same action again (a retried call, or the same plan approved again after a rollback):
      // continue that record rather than start a second one.
      this.doc = existing.value;
      this.version = existing.version;
      if (this.doc.status === 'completed') return;
      this.doc = { ...this.doc, status: 'in_progress', resumed: this.doc.resumed + 1 };
      if (needsRestart(this.doc)) await this.restartFromScratch();
      await this.save();
      return;
    }
    const other = await activeRotation(this.deps.store, p.env, p.secret);
    if (other)
      throw new ToolError(
        `secret: rotation ${other.value.id} of ${p.secret} is unfinished; call rotate_credential again without a token to plan its resumption`,
        'conflict',
        'secret',
      );
    const now = this.now();
    this.doc = {
      id,
      env: p.env,
      secret: p.secret,
      ...(p.service ? { service: p.service } : {}),
      strategy: p.strategy,
      database: p.database,
      dbname: p.dbname,
      role: p.role,
      new_role: p.new_role,
      pending_version: requestTokenFor(this.opts.actionDigest),
      previous_version: p.current_version,
      action_digest: this.opts.actionDigest,
      requested_by: this.opts.principal,
      ...(p.reason ? { reason: p.reason } : {}),
      notify_owners: p.notify_owners,
      owners: p.owners,
      status: 'in_progress',
      steps: STEP_NAMES.map((name) => ({ name, status: 'pending' })),
      dependents: p.dependents.map((d) => ({ ...d, status: 'pending' })),
      created_at: now,
      updated_at: now,
      resumed: 0,
    };
    this.version = 0;
    await this.save();
  }

  /**
   * A rotation that failed before AWSCURRENT moved (and whose rollback may not have finished)
   * starts over: finish the rollback, then a new version under a new ClientRequestToken.
   */
  private async restartFromScratch(): Promise<void> {
    await this.rollBack();
    const d = this.doc;
    const meta = await retry(() => this.sm.describeSecret(d.secret));
    d.previous_version =
      Object.entries(meta.versionStages).find(([, s]) => s.includes('AWSCURRENT'))?.[0] ?? d.previous_version;
    d.pending_version = requestTokenFor(`${d.action_digest}:${d.resumed}`);
    for (const s of d.steps)
      if (EARLY.has(s.name))
        Object.assign(s, {
          status: 'pending',
          started_at: undefined,
          finished_at: undefined,
          note: undefined,
        });
  }

  private async save(): Promise<void> {
    this.doc.updated_at = this.now();
    try {
      this.version = await saveRotation(this.deps.store, this.doc, this.version);
    } catch (err) {
      if (err instanceof VersionConflictError)
        throw new ToolError(
          `rotation ${this.doc.id} is being run by another call; read it with get_rotation`,
          'conflict',
          'secret',
        );
      throw err;
    }
  }

  private async perform(name: StepName): Promise<string> {
    switch (name) {
      case 'preflight':
        return this.preflight();
      case 'create_secret':
        return this.createSecret();
      case 'set_secret':
        return this.setSecret();
      case 'test_secret':
        return this.testSecret();
      case 'finish_secret':
        return this.finishSecret();
      case 'restart_dependents':
        return this.restartDependents();
      case 'verify':
        return this.verify();
      case 'notify':
        return this.notify();
    }
  }

  private async preflight(): Promise<string> {
    const d = this.doc;
    // What already fires on the dependents, so that verify only counts alerts that are new.
    const services = new Set(d.dependents.map((x) => x.service));
    const { alerts } = await collectAlerts(this.deps, { env: d.env });
    d.alert_baseline = alerts.filter((a) => a.service && services.has(a.service)).map((a) => a.id);
    if (!d.notify_owners)
      return `${d.alert_baseline.length} alert(s) already firing on the dependents; owner notification not required in ${d.env}`;
    await this.notifier().send({
      kind: 'rotation.starting',
      title: `Credential rotation starting: ${d.secret} (${d.env})`,
      text: `day2 is rotating ${d.secret} (${d.strategy}, role ${d.new_role}@${d.dbname}) for ${d.requested_by}. Dependents restart in this order: ${d.dependents.map((x) => x.service).join(', ') || 'none'}.`,
      recipients: d.owners,
      fields: {
        rotation_id: d.id,
        secret: d.secret,
        env: d.env,
        strategy: d.strategy,
        started_at: d.created_at,
      },
    });
    return `owners notified (${d.owners.join(', ') || 'no owner on record'})`;
  }

  private async createSecret(): Promise<string> {
    const d = this.doc;
    const meta = await retry(() => this.sm.describeSecret(d.secret));
    if (meta.versionStages[d.pending_version])
      return `version ${d.pending_version} already stored (idempotent re-run)`;
    const currentId = Object.entries(meta.versionStages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
    if (currentId !== d.previous_version)
      throw new ToolError(
        `secret: AWSCURRENT of ${d.secret} changed since the plan (now ${currentId ?? 'none'}); plan again`,
        'conflict',
        'secret',
      );
    const current = requireDbCredential(
      (await retry(() => this.sm.getSecretValue(d.secret, { versionId: d.previous_version }))).value,
      d.secret,
    );
    const password = await retry(() =>
      this.sm.getRandomPassword({ length: 32, excludeCharacters: `"'\\/@:?#[]%\`$ ` }),
    );
    await retry(() =>
      this.sm.createPendingVersion(
        d.secret,
        nextCredentialValue(current, d.new_role, password),
        d.pending_version,
      ),
    );
    return `version ${d.pending_version} stored as AWSPENDING`;
  }

  private async pending() {
    const d = this.doc;
    return requireDbCredential(
      (await retry(() => this.sm.getSecretValue(d.secret, { versionId: d.pending_version }))).value,
      d.secret,
    );
  }

  private async setSecret(): Promise<string> {
    const d = this.doc;
    const cred = await this.pending();
    const where = `${d.env}/${d.database}`;
    let created = '';
    await this.deps.backends.postgres.withClient({ env: d.env, database: d.database }, async (admin) => {
      if (d.strategy === 'alternating-users' && d.new_role !== baseRole(d.new_role)) {
        const r = await ensureAlternateRole(admin, baseRole(d.new_role), d.new_role, where);
        if (r === 'created') created = ` (created with the privileges of ${baseRole(d.new_role)})`;
      }
      await setRolePassword(admin, d.new_role, cred.password, where);
    });
    return `password of role ${d.new_role} set${created}`;
  }

  private async testSecret(): Promise<string> {
    const d = this.doc;
    const cred = await this.pending();
    try {
      const user = await this.deps.backends.postgres.testLogin(
        { host: cred.host, port: cred.port, dbname: cred.dbname },
        cred.username,
        cred.password,
        { timeoutMs: this.deps.config.backends.timeout },
      );
      return `logged in to ${cred.dbname} as ${user} with the pending credential`;
    } catch (err) {
      throw new ToolError(
        `test_secret: the pending credential of ${d.secret} could not log in to ${cred.dbname} as ${cred.username} (${(err as { code?: string }).code ?? 'login failed'})`,
        'rotation_test_failed',
      );
    }
  }

  private async finishSecret(): Promise<string> {
    const d = this.doc;
    const meta = await retry(() => this.sm.describeSecret(d.secret));
    const stages = meta.versionStages[d.pending_version] ?? [];
    if (!stages.includes('AWSCURRENT')) {
      const currentId = Object.entries(meta.versionStages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      if (!currentId)
        throw new ToolError(`secret: ${d.secret} has no AWSCURRENT version`, 'conflict', 'secret');
      await retry(() => this.sm.moveCurrent(d.secret, d.pending_version, currentId));
    }
    if (stages.includes('AWSPENDING') || !stages.includes('AWSCURRENT')) {
      const after = await retry(() => this.sm.describeSecret(d.secret));
      if ((after.versionStages[d.pending_version] ?? []).includes('AWSPENDING'))
        await retry(() => this.sm.removeStage(d.secret, 'AWSPENDING', d.pending_version));
    }
    await this.sm
      .tagResource(d.secret, { 'day2:last-rotated': this.now(), 'day2:rotation-id': d.id })
      .catch((err: unknown) =>
        this.deps.log.warn('rotation: could not tag the secret', { secret: d.secret, error: err }),
      );
    return `AWSCURRENT is version ${d.pending_version}; ${d.previous_version} is AWSPREVIOUS`;
  }

  private async restartDependents(): Promise<string> {
    const d = this.doc;
    if (d.dependents.length === 0) return 'skipped: nothing to restart';
    if (!this.deps.backends.has(d.env, 'kubernetes'))
      throw new ToolError(
        `env: ${d.env} has no Kubernetes configured; restart the dependents by hand`,
        'not_configured',
      );
    const k8s = this.deps.backends.kubernetes(d.env);
    const timeoutMs = this.deps.config.rotation.restart_timeout;
    for (const dep of d.dependents) {
      if (dep.status === 'ready') continue;
      if (dep.status !== 'restarted') {
        await k8s.restartDeployment(dep.namespace, dep.deployment, { at: this.deps.clock.now() });
        dep.status = 'restarted';
        dep.restarted_at = this.now();
        delete dep.reason;
        await this.save();
      }
      const res = await k8s.waitForRollout(dep.namespace, dep.deployment, {
        timeoutMs,
        signal: this.opts.signal,
        pollMs: 50,
      });
      if (!res.ready) {
        dep.status = 'not_ready';
        dep.reason = res.reason;
        await this.save();
        throw new ToolError(
          `restart_dependents: ${dep.service} (${dep.namespace}/${dep.deployment}) did not become ready after its restart (${res.reason}); the new credential is current and the later dependents were not restarted — fix the deployment (triage_service), then call rotate_credential again to resume`,
          'dependent_not_ready',
        );
      }
      dep.status = 'ready';
      dep.ready_at = this.now();
      this.done++;
      await this.save();
      await this.opts.progress?.(this.done, this.total, `restarted ${dep.service}, ready`);
    }
    return `${d.dependents.length} dependent(s) restarted in order and ready: ${d.dependents.map((x) => x.service).join(' → ')}`;
  }

  private async verify(): Promise<string> {
    const d = this.doc;
    const window = this.deps.config.rotation.verify_window;
    await sleep(window, this.opts.signal);
    const problems: string[] = [];
    if (d.dependents.length && this.deps.backends.has(d.env, 'kubernetes')) {
      const k8s = this.deps.backends.kubernetes(d.env);
      for (const dep of d.dependents) {
        const info = await k8s.getDeployment(dep.namespace, dep.deployment);
        if (info.availableReplicas < info.replicas)
          problems.push(`${dep.service} has ${info.availableReplicas}/${info.replicas} available`);
      }
    }
    const services = new Set(d.dependents.map((x) => x.service));
    const baseline = new Set(d.alert_baseline ?? []);
    const { alerts, gaps } = await collectAlerts(this.deps, { env: d.env });
    const fresh = alerts.filter((a) => a.service && services.has(a.service) && !baseline.has(a.id));
    for (const a of fresh) problems.push(`new alert on ${a.service}: ${a.name}`);
    if (problems.length)
      throw new ToolError(
        `verify: ${problems.slice(0, 5).join('; ')}. The new credential is current; look at the dependents, then call rotate_credential again to re-verify`,
        'verify_failed',
      );
    const unread = gaps.length ? ` (alerts not read from ${gaps.map((g) => g.backend).join(', ')})` : '';
    return `dependents ready; no new alert within ${Math.round(window / 1000)} s${unread}`;
  }

  private async notify(): Promise<string> {
    const d = this.doc;
    if (!this.deps.notifier && !d.notify_owners) return 'skipped: no notifier configured';
    const finished = this.step('finish_secret').finished_at ?? this.now();
    await this.notifier().send({
      kind: 'rotation.completed',
      title: `Credential rotated: ${d.secret} (${d.env})`,
      text:
        `${d.secret} was rotated at ${finished} (${d.strategy}): AWSCURRENT is now version ${d.pending_version} for role ${d.new_role}@${d.dbname}; ` +
        `version ${d.previous_version} is AWSPREVIOUS. Restarted: ${d.dependents.map((x) => x.service).join(', ') || 'nothing'}. Requested by ${d.requested_by}${d.reason ? `: ${d.reason}` : ''}.`,
      recipients: d.owners,
      fields: {
        rotation_id: d.id,
        secret: d.secret,
        env: d.env,
        strategy: d.strategy,
        role: d.new_role,
        previous_role: d.role,
        current_version: d.pending_version,
        previous_version: d.previous_version,
        rotated_at: finished,
        restarted: d.dependents.map((x) => ({ service: x.service, restarted_at: x.restarted_at })),
      },
    });
    return `owners notified (${d.owners.join(', ') || 'no owner on record'})`;
  }

  /** Records the failure; before AWSCURRENT moves it also undoes what the rotation changed. */
  private async fail(name: StepName, err: unknown): Promise<never> {
    const step = this.step(name);
    step.status = 'failed';
    step.finished_at = this.now();
    step.note = describe(err);
    this.doc.error = `${name}: ${describe(err)}`;
    let rolledBack = false;
    if (EARLY.has(name)) {
      const undo = await this.rollBack().catch((e: unknown) => `rollback incomplete: ${describe(e)}`);
      rolledBack = undo.startsWith('rolled back');
      step.note += `; ${undo}`;
      this.doc.error += `; ${undo}`;
    }
    this.doc.status = rolledBack ? 'rolled_back' : 'failed';
    await this.save();
    await this.opts.progress?.(
      this.done,
      this.total,
      `${name} failed: ${rolledBack ? 'rolled back' : 'stopped'}`,
    );
    if (err instanceof ToolError || err instanceof BackendError) {
      const msg = `rotation ${this.doc.id} stopped at ${name}: ${err.message}${rolledBack ? ' — rolled back: AWSCURRENT is unchanged and still logs in' : ''}`;
      if (err instanceof ToolError) throw new ToolError(msg, err.code, err.field);
      throw new BackendError(err.backend, err.kind, msg, {
        status: err.status,
        retryAfterMs: err.retryAfterMs,
        cause: err,
      });
    }
    throw err;
  }

  private async rollBack(): Promise<string> {
    const d = this.doc;
    const meta = await retry(() => this.sm.describeSecret(d.secret));
    const stages = meta.versionStages[d.pending_version] ?? [];
    if (stages.includes('AWSCURRENT')) return 'AWSCURRENT had already moved: nothing to roll back';
    const did: string[] = [];
    // A failed ALTER ROLE changed nothing; a done (or interrupted) one did.
    const set = this.step('set_secret').status;
    const touchedRole = set === 'done' || set === 'running';
    if (d.strategy === 'single-user' && touchedRole) {
      const current = requireDbCredential(
        (await retry(() => this.sm.getSecretValue(d.secret, { versionStage: 'AWSCURRENT' }))).value,
        d.secret,
      );
      await this.deps.backends.postgres.withClient({ env: d.env, database: d.database }, (admin) =>
        setRolePassword(admin, d.role, current.password, `${d.env}/${d.database}`),
      );
      did.push(`role ${d.role} set back to the AWSCURRENT password`);
    }
    for (const n of ['set_secret', 'test_secret'] as const)
      if (this.step(n).status === 'done') this.step(n).status = 'rolled_back';
    if (stages.includes('AWSPENDING')) {
      await retry(() => this.sm.removeStage(d.secret, 'AWSPENDING', d.pending_version));
      did.push('AWSPENDING removed');
    }
    if (this.step('create_secret').status === 'done') this.step('create_secret').status = 'rolled_back';
    return did.length ? `rolled back: ${did.join(', ')}` : 'rolled back: nothing had changed';
  }
}

/** Whether a resumed rotation must start over (it stopped in a step before AWSCURRENT moved). */
export function needsRestart(doc: RotationDoc): boolean {
  return doc.steps.some((s) => EARLY.has(s.name) && (s.status === 'failed' || s.status === 'rolled_back'));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Retries idempotent Secrets Manager calls on throttling and 5xx, honouring Retry-After (capped). */
async function retry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof BackendError) || !err.retryable || i >= attempts) throw err;
      await sleep(Math.min(err.retryAfterMs ?? 100 * 2 ** i, 2000));
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}
