import { environmentConfig } from '../../config/lookup.js';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Deps } from '../../contract/deps.js';
import {
  DesiredStateError,
  loadDesiredState,
  scanDrift,
  type DesiredObject,
  type ObjectDrift,
} from './drift/index.js';
import { gapReason, type Gap } from '../context/gather.js';
import { ToolError } from '../../contract/define-tool.js';
import { envField } from '../../contract/fields.js';
import { resolveEnv } from '../context/resolve-service.js';
import { clipValue } from './workload.js';
import { heldWhy, holdOn, type Hold } from './holds.js';

/** Fields that narrow a drift scan. */
export const driftScopeFields = {
  env: envField,
  service: z.string().min(1).optional(),
  namespace: z.string().min(1).max(63).optional(),
  kind: z.string().min(1).max(63).optional().describe('e.g. Deployment'),
};

export interface DriftScope {
  env: string;
  service?: string;
  folder: string;
  objects: ObjectDrift[];
  gaps: Gap[];
}

/** `Deployment checkout/orders`: how objects are named to the model and in `objects` selections. */
export function objectRef(o: { kind: string; namespace?: string; name: string }): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** Loads the environment's desired state, narrows it to the scope, and compares it with live. */
export async function scanScope(
  deps: Deps,
  args: { env: string; service?: string; namespace?: string; kind?: string },
): Promise<DriftScope> {
  const env = resolveEnv(deps, args.env);
  // The names in the call first: a misspelt service is the first thing to say.
  const svc = args.service ? deps.catalog.resolver.service(args.service, { env }) : undefined;
  const configured = environmentConfig(deps.config, env)?.desired_state;
  if (!configured)
    throw new ToolError(
      `env: environment "${env}" has no desired_state folder configured (environments.${env}.desired_state)`,
      'not_configured',
      'env',
    );
  const folder = resolve(configured);
  let desired: DesiredObject[];
  try {
    desired = await loadDesiredState(folder);
  } catch (err) {
    if (err instanceof DesiredStateError)
      throw new ToolError(`desired state of ${env}: ${err.message}`, 'invalid_desired_state');
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ToolError(
        `desired state of ${env}: folder ${configured} does not exist`,
        'not_configured',
        'env',
      );
    throw err;
  }
  const workload = svc ? deps.catalog.workloadFor(svc.id, env) : undefined;
  const k8s = deps.backends.kubernetes(env);
  desired = desired.filter(
    (o) =>
      (!args.namespace || o.namespace === args.namespace) &&
      (!args.kind || o.kind.toLowerCase() === args.kind.toLowerCase()) &&
      (!k8s.namespaces.length || !o.namespace || k8s.namespaces.includes(o.namespace)) &&
      (!svc || belongsTo(o, svc.name, workload)),
  );
  const { objects, failures } = await scanDrift(k8s, desired);
  return {
    env,
    service: svc?.id,
    folder,
    objects,
    gaps: failures.map((f) => ({ backend: 'kubernetes', env, reason: `${f.what}: ${gapReason(f.error)}` })),
  };
}

function belongsTo(
  o: DesiredObject,
  service: string,
  workload: { namespace: string; name: string } | undefined,
): boolean {
  if (workload && o.namespace === workload.namespace && o.name === workload.name) return true;
  const labels = (o.manifest.metadata as { labels?: Record<string, unknown> } | undefined)?.labels ?? {};
  return labels['app.kubernetes.io/name'] === service || labels['app.kubernetes.io/instance'] === service;
}

const IMAGE_PATH = /containers\[name=[^\]]+\]\.image$/;

/**
 * The hold that explains an object's drift: the desired state still names an image that a
 * rollback or an incident put on hold, and the cluster runs another one. Such drift is expected
 * until the desired state is updated; remediating it would put the bad version back.
 */
export function heldDrift(o: ObjectDrift, holds: readonly Hold[]): Hold | undefined {
  for (const c of o.changes)
    if (c.op === 'changed' && IMAGE_PATH.test(c.path) && typeof c.desired === 'string') {
      const h = holdOn(holds, c.desired);
      if (h) return h;
    }
  return undefined;
}

/** Why a held drift is expected, and what fixes it for good. */
export function expectedBecause(h: Hold): string {
  return `expected: ${heldWhy(h)}; update the desired state to the version that runs`;
}

/** One object's drift as tools show it: capped changes, values clipped. */
export function driftView(o: ObjectDrift, maxChanges = 20, hold?: Hold) {
  return {
    ...(hold ? { expected: expectedBecause(hold) } : {}),
    object: objectRef(o),
    kind: o.kind,
    namespace: o.namespace,
    name: o.name,
    file: o.file,
    status: o.status,
    changes: o.changes.slice(0, maxChanges).map((c) => ({
      path: c.path,
      op: c.op,
      ...(c.desired !== undefined ? { desired: clipValue(c.desired) } : {}),
      ...(c.live !== undefined ? { live: clipValue(c.live) } : {}),
    })),
    changes_total: o.changes.length,
  };
}

export const driftObjectShape = z.object({
  object: z.string().describe('Kind namespace/name'),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  file: z.string().describe('file in the desired-state folder'),
  status: z.enum(['in_sync', 'drifted', 'missing']),
  expected: z.string().optional().describe('why this drift is expected: a held version'),
  changes: z.array(
    z.object({
      path: z.string().describe('e.g. spec.template.spec.containers[name=orders].env[name=LOG_LEVEL].value'),
      op: z
        .enum(['added', 'removed', 'changed'])
        .describe('added: only live; removed: only desired; changed: both, different'),
      desired: z.string().optional(),
      live: z.string().optional().describe('live value: data from the cluster'),
    }),
  ),
  changes_total: z.number(),
});
