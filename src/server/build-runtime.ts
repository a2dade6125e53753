import { environmentConfig } from '../config/lookup.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Logger } from '../core/log.js';
import type { Backends } from '../providers/backends.js';
import type { Runtime } from './runtime.js';
import type { AnyTool } from '../contract/define-tool.js';
import type { Notifier } from '../providers/notify/notifier.js';
import { LogNotifier, WebhookNotifier } from '../providers/notify/notifier.js';
import { openStore } from '../store/open-store.js';
import { AuditLog, loadOrCreateSigningKey } from '../guards/audit-log.js';
import { auditKeyPaths, witnessSettings } from '../guards/audit-config.js';
import { openWitness } from '../guards/audit-witness.js';
import { loadPolicy } from '../guards/policy.js';
import { Approvals } from '../guards/approvals.js';
import { ApproverKeys } from '../guards/approver-keys.js';
import { loadRegistry, type Registry } from './registry.js';
import type { Store } from '../store/store.js';
import { localCancelBus, type CancelBus } from '../store/cancel-bus.js';
import { Catalog } from '../catalog/catalog.js';
import { approvalPageUrl } from '../guards/approval-link.js';

export interface BuildRuntimeOptions {
  loaded: LoadedConfig;
  log: Logger;
  backends: Backends;
  clock?: Clock;
  notifier?: Notifier;
  /** Replaces the registry's tools (tests register test-only tools this way). */
  tools?: readonly AnyTool[];
  /** The registry, or a promise of it (server.ts loads it after answering initialize). */
  registry?: Registry | Promise<Registry>;
  /** An already open store; otherwise the configured one is opened. */
  store?: Store;
  /** The service catalog; empty when none is configured. */
  catalog?: Catalog;
  /** When backends start after the runtime (see server.ts), settles once they are in place. */
  ready?: Promise<void>;
}

export interface OwnedRuntime extends Runtime {
  auditLog: AuditLog;
  /** Closes the cancel bus, flushes the audit log (writing a final checkpoint) and closes the store. */
  close(): Promise<void>;
}

/** Builds the process-wide runtime: store, audit log, policy, approvals, notifier, registry. */
export async function buildRuntime(opts: BuildRuntimeOptions): Promise<OwnedRuntime> {
  const { config, baseDir } = opts.loaded;
  const clock = opts.clock ?? systemClock;
  const policy = loadPolicy(config, baseDir);
  // Read before anything is opened or created: a bad key file is a configuration error.
  const approverKeys = ApproverKeys.load(config.approvals.keys, baseDir);
  const witnessConfig = witnessSettings(opts.loaded);
  const store =
    opts.store ?? (await openStore(opts.loaded.store, { clock, timeoutMs: config.store.timeout }));
  const keys = auditKeyPaths(opts.loaded);
  if (keys.besideStore)
    opts.log.warn(
      'the audit signing key sits beside the store: whoever can rewrite the store can re-sign it; move it (audit.signing_key_file) and set audit.witness',
      { path: keys.signing },
    );
  const signingKey = loadOrCreateSigningKey(keys.signing, opts.log);
  const witness = witnessConfig && openWitness(witnessConfig);
  const auditLog = await AuditLog.open(store, {
    signingKey,
    witness,
    checkpointEvery: config.audit.checkpoint_every,
    clock,
    log: opts.log,
  });
  const notifier =
    opts.notifier ??
    (config.notify.webhook_url
      ? new WebhookNotifier(config.notify.webhook_url, config.notify.timeout)
      : new LogNotifier(opts.log));
  const deps = {
    config,
    store,
    clock,
    log: opts.log,
    backends: opts.backends,
    catalog: opts.catalog ?? Catalog.empty(),
    notifier,
  };
  const page = config.http.public_url && config.http.approvers.length ? config.http.public_url : undefined;
  const approvals = new Approvals(
    store,
    auditLog,
    policy,
    clock,
    notifier,
    opts.log,
    config.approvals.ttl,
    page ? (id) => approvalPageUrl(page, id) : undefined,
    approverKeys,
  );
  let cancelBus: CancelBus | undefined;
  const rt: OwnedRuntime = {
    deps,
    policy,
    audit: auditLog,
    auditLog,
    approvals,
    notifier,
    tools: [],
    resources: [],
    prompts: [],
    registryReady: undefined,
    ready: opts.ready,
    cancelBus: () => (cancelBus ??= store.openCancelBus?.(opts.log) ?? localCancelBus),
    tierOf: (env) => environmentConfig(config, env)?.tier,
    async close() {
      await cancelBus?.close();
      await auditLog.close();
      await witness?.close();
      if (!opts.store) await store.close();
    },
  };
  const registry = opts.registry ?? loadRegistry();
  const fill = (r: Registry) => {
    rt.tools = opts.tools ?? r.tools;
    rt.resources = r.resources;
    rt.prompts = r.prompts;
  };
  if (registry instanceof Promise) {
    rt.registryReady = registry.then(fill);
    // A registry that fails to load is a bug; every handler reports it through registryReady.
    rt.registryReady.catch((err: unknown) => opts.log.error('registry failed to load', { error: err }));
    if (!opts.registry) await rt.registryReady;
  } else fill(registry);
  return rt;
}
