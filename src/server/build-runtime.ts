import { environmentConfig } from '../config/lookup.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../core/log.js';
import type { Redactor } from '../core/redact.js';
import type { Backends } from '../providers/backends.js';
import type { Runtime } from './runtime.js';
import type { AnyTool } from '../contract/define-tool.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { LogNotifier, WebhookNotifier } from '../providers/notify/notifier.js';
import { openStore } from '../store/open-store.js';
import { AuditLog, loadOrCreateSigningKey } from '../guards/audit-log.js';
import { auditKeyPaths, witnessSettings } from '../guards/audit-config.js';
import { openWitness } from '../guards/audit-witness.js';
import { loadPolicy, type Policy } from '../guards/policy.js';
import { Approvals } from '../guards/approvals.js';
import { ApproverKeys } from '../guards/approver-keys.js';
import { loadRegistry, type Registry } from './registry.js';
import type { Store } from '../store/store.js';
import { localCancelBus, type CancelBus } from '../store/cancel-bus.js';
import { Catalog } from '../catalog/catalog.js';
import { approvalPageUrl } from '../guards/approval-link.js';
import { noTelemetry, type Telemetry } from '../core/telemetry.js';
import { tracedBackends } from '../providers/traced-backends.js';
import type { AuditSink } from '../guards/approvals.js';

/**
 * The part of a runtime that holds day2's own records: store, audit log, policy, approver keys.
 * Opened first and on its own, so that a bad store URL, policy or key file stops `day2 serve`
 * before it answers anything, while backends may still be starting.
 */
export interface RuntimeCore {
  loaded: LoadedConfig;
  log: Logger;
  redactor: Redactor;
  clock: Clock;
  store: Store;
  auditLog: AuditLog;
  policy: Policy;
  approverKeys: ApproverKeys;
  telemetry: Telemetry;
  cancelBus(): CancelBus;
  /** Closes the cancel bus, flushes the audit log (writing a final checkpoint) and closes what it opened. */
  close(): Promise<void>;
}

export interface OpenCoreOptions {
  loaded: LoadedConfig;
  log: Logger;
  /** The runtime's known secrets; the same one its logger and backends were built with. */
  redactor: Redactor;
  /** Where the audit key paths (XDG_CONFIG_HOME, HOME) and witness credentials are read: the CLI's environment. */
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  /** An already open store (the caller closes it); otherwise the configured one is opened. */
  store?: Store;
  /** Traces and metrics (startTelemetry); the caller shuts it down. Default: none. */
  telemetry?: Telemetry;
  /** Where a SQLite store's connection lives (openStore's `thread`); default a worker thread. */
  storeThread?: 'worker' | 'caller';
}

export async function openRuntimeCore(opts: OpenCoreOptions): Promise<RuntimeCore> {
  const { config, baseDir } = opts.loaded;
  const clock = opts.clock ?? systemClock;
  const policy = loadPolicy(config, baseDir);
  // Read before anything is opened or created: a bad key file is a configuration error.
  const approverKeys = ApproverKeys.load(config.approvals.keys, baseDir);
  const witnessConfig = witnessSettings(opts.loaded, opts.env);
  const store =
    opts.store ??
    (await openStore(opts.loaded.store, {
      clock,
      timeoutMs: config.store.timeout,
      thread: opts.storeThread,
    }));
  const keys = auditKeyPaths(opts.loaded, opts.env);
  if (keys.besideStore)
    opts.log.warn(
      'the audit signing key sits beside the store: whoever can rewrite the store can re-sign it; move it (audit.signing_key_file) and set audit.witness',
      { path: keys.signing },
    );
  const signingKey = loadOrCreateSigningKey(keys.signing, opts.log);
  const witness = witnessConfig && openWitness(witnessConfig);
  const auditLog = await AuditLog.open(store, {
    redactor: opts.redactor,
    signingKey,
    witness,
    checkpointEvery: config.audit.checkpoint_every,
    clock,
    log: opts.log,
  });
  let cancelBus: CancelBus | undefined;
  return {
    loaded: opts.loaded,
    log: opts.log,
    redactor: opts.redactor,
    clock,
    store,
    auditLog,
    policy,
    approverKeys,
    telemetry: opts.telemetry ?? noTelemetry,
    cancelBus: () => (cancelBus ??= store.openCancelBus?.(opts.log) ?? localCancelBus),
    async close() {
      await cancelBus?.close();
      await auditLog.close();
      await witness?.close();
      if (!opts.store) await store.close();
    },
  };
}

export interface AssembleOptions {
  /**
   * The configuration the runtime serves, complete: for the sandbox, the loaded one with its
   * environments merged in (withEnvironments). Defaults to the core's.
   */
  loaded?: LoadedConfig;
  backends: Backends;
  /** The service catalog; empty when none is configured. */
  catalog?: Catalog;
  registry: Registry;
  notifier?: Notifier;
}

export interface OwnedRuntime extends Runtime {
  auditLog: AuditLog;
  /** Closes the cancel bus, flushes the audit log (writing a final checkpoint) and closes the store. */
  close(): Promise<void>;
}

/** Puts a runtime together over an open core; nothing in it changes afterwards. */
export function assembleRuntime(core: RuntimeCore, opts: AssembleOptions): OwnedRuntime {
  const { config } = opts.loaded ?? core.loaded;
  const notifier =
    opts.notifier ??
    (config.notify.webhook_url
      ? new WebhookNotifier(config.notify.webhook_url, config.notify.timeout, core.redactor)
      : new LogNotifier(core.log));
  const { telemetry } = core;
  // Traced here, once, so that every tool's backend calls and every audit append are spans of the
  // request that made them; untraced (and untouched) when telemetry is off.
  const backends = telemetry.enabled ? tracedBackends(opts.backends, telemetry) : opts.backends;
  const audit = telemetry.enabled ? tracedAudit(core.auditLog, telemetry) : core.auditLog;
  const deps = Object.freeze({
    config,
    store: core.store,
    clock: core.clock,
    log: core.log,
    redactor: core.redactor,
    backends,
    catalog: opts.catalog ?? Catalog.empty(),
    notifier,
  });
  const page = config.http.public_url && config.http.approvers.length ? config.http.public_url : undefined;
  const approvals = new Approvals(
    core.store,
    audit,
    core.policy,
    core.clock,
    notifier,
    core.log,
    core.redactor,
    config.approvals.ttl,
    page ? (id) => approvalPageUrl(page, id) : undefined,
    core.approverKeys,
  );
  return Object.freeze({
    deps,
    policy: core.policy,
    audit,
    auditLog: core.auditLog,
    telemetry,
    approvals,
    notifier,
    tools: opts.registry.tools,
    resources: opts.registry.resources,
    prompts: opts.registry.prompts,
    cancelBus: () => core.cancelBus(),
    tierOf: (env: string) => environmentConfig(config, env)?.tier,
    close: () => core.close(),
  });
}

export interface BuildRuntimeOptions extends OpenCoreOptions {
  backends: Backends;
  catalog?: Catalog;
  notifier?: Notifier;
  /** The registry; loaded when not given. */
  registry?: Registry;
  /** Replaces the registry's tools (tests register test-only tools this way). */
  tools?: readonly AnyTool[];
}

/** Builds the process-wide runtime in one step: store, audit log, policy, approvals, notifier, registry. */
export async function buildRuntime(opts: BuildRuntimeOptions): Promise<OwnedRuntime> {
  const registry = opts.registry ?? (await loadRegistry());
  const core = await openRuntimeCore(opts);
  return assembleRuntime(core, {
    backends: opts.backends,
    catalog: opts.catalog,
    notifier: opts.notifier,
    registry: opts.tools ? { ...registry, tools: opts.tools } : registry,
  });
}

/** Each audit append as a span (`day2 audit.append`) with the event it records; never the record itself. */
function tracedAudit(sink: AuditSink, telemetry: Telemetry): AuditSink {
  return {
    append: (input, opts) =>
      telemetry.span(
        'day2 audit.append',
        'internal',
        { 'day2.audit.event': input.event, 'day2.audit.durable': opts?.durable === true },
        () => sink.append(input, opts),
      ),
  };
}
