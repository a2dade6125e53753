import type { Deps } from '../../../contract/deps.js';
import type { ObjectDrift } from '../../deploys/drift/scan.js';
import { formatPath } from '../../deploys/drift/diff.js';
import { objectRef } from '../../deploys/drift-scope.js';
import { clipValue } from '../../deploys/workload.js';
import type { IncidentRecord } from '../../incidents/incident-record.js';
import { holdOrigin, shortImage, type Hold } from '../../deploys/holds.js';
import { untrusted } from '../gather.js';
import type { LedgerEntry } from './change.js';
import { DAY2_FIELD_MANAGER } from '../../../providers/kubernetes/types.js';

/**
 * Hand edits: live objects that differ from the desired state (the GitOps checkout), each
 * attributed to the field manager that last set a differing field (metadata.managedFields), at
 * that manager's time. A difference no manager accounts for is listed undated: it is true now.
 */
export function editEntries(deps: Deps, env: string, objects: readonly ObjectDrift[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const o of objects) {
    if (o.status === 'in_sync') continue;
    const owned = new Set(o.changes.map((c) => c.path));
    const owner = (o.managers ?? []).find((m) =>
      m.fields.some((f) => {
        const p = formatPath(f);
        return [...owned].some((c) => p === c || p.startsWith(`${c}.`) || p.startsWith(`${c}[`));
      }),
    );
    const ms = owner?.time ? Date.parse(owner.time) : NaN;
    const service =
      (o.kind === 'Deployment' && o.namespace
        ? deps.catalog.serviceForWorkload(env, o.namespace, o.name)?.id
        : undefined) ?? labelOf(o.manifest, 'app.kubernetes.io/name');
    const shown = o.changes
      .slice(0, 3)
      .map((c) => `${shortPath(c.path)} ${show(c.desired)} → ${show(c.live)}`)
      .join('; ');
    out.push({
      id: `edit:${objectRef(o)}`,
      at: Number.isNaN(ms) ? null : owner!.time!,
      sortAt: Number.isNaN(ms) ? deps.clock.now().getTime() : ms,
      kind: 'edit',
      env,
      ...(service ? { service } : {}),
      what:
        o.status === 'missing'
          ? `${objectRef(o)} is in the desired state (${o.file}) but not in the cluster`
          : `${objectRef(o)} differs from the desired state: ${untrusted(shown, 240)}${o.changes.length > 3 ? ` (+${o.changes.length - 3} more)` : ''}`,
      by: owner?.manager ?? 'unknown',
      by_how: owner ? 'managedFields' : 'unknown',
      // day2 applies with its own field manager: a difference it last set is its own write (a
      // rollback away from what the desired state names), not an edit made outside it.
      day2: owner?.manager === DAY2_FIELD_MANAGER,
    });
  }
  return out;
}

/** Incidents day2 recorded: one change when opened, one when resolved. */
export function incidentEntries(env: string, incidents: readonly IncidentRecord[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const i of incidents) {
    if (i.env !== env) continue;
    const base = {
      kind: 'incident' as const,
      env,
      service: i.service,
      by_how: 'audit' as const,
      day2: true,
    };
    out.push({
      ...base,
      id: `incident:${i.id}:opened`,
      at: i.opened_at,
      sortAt: Date.parse(i.opened_at),
      what: `incident ${i.id} opened (${i.severity}): ${untrusted(i.title, 120)}`,
      by: i.opened_by,
    });
    if (i.resolved_at)
      out.push({
        ...base,
        id: `incident:${i.id}:resolved`,
        at: i.resolved_at,
        sortAt: Date.parse(i.resolved_at),
        what: `incident ${i.id} resolved${i.root_cause ? `: ${untrusted(i.root_cause, 120)}` : ''}`,
        by: i.resolved_by ?? 'unknown',
      });
  }
  return out;
}

/** `spec.template.spec.containers[name=orders].env[name=LOG_LEVEL].value` → `orders env[LOG_LEVEL].value`. */
function shortPath(path: string): string {
  return path
    .replace(/^spec\.template\.spec\.containers\[name=([^\]]+)\]\./, '$1 ')
    .replace(/\[name=([^\]]+)\]/g, '[$1]');
}

function show(v: unknown): string {
  return v === undefined ? '(none)' : clipValue(v, 60);
}

function labelOf(manifest: Record<string, unknown>, key: string): string | undefined {
  const labels = (manifest.metadata as { labels?: Record<string, unknown> } | undefined)?.labels;
  const v = labels?.[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Holds placed and released: a version a rollback or an incident marked bad, and when a person
 * lifted that. Each event is a change of what day2 will offer in the environment.
 */
export function holdEntries(env: string, holds: readonly Hold[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (const h of holds) {
    if (h.env !== env) continue;
    const base = { kind: 'hold' as const, env, service: h.service, by_how: 'audit' as const, day2: true };
    out.push({
      ...base,
      id: `hold:${h.id}:placed`,
      at: h.created_at,
      sortAt: Date.parse(h.created_at),
      what: `held ${shortImage(h.image)} (${h.id}) since ${holdOrigin(h)}: ${untrusted(h.reason, 120)}`,
      by: h.held_by,
      ...(h.approval_id ? { approval_id: h.approval_id } : {}),
    });
    if (h.released)
      out.push({
        ...base,
        id: `hold:${h.id}:released`,
        at: h.released.at,
        sortAt: Date.parse(h.released.at),
        what: `released the hold on ${shortImage(h.image)} (${h.id}): ${untrusted(h.released.reason, 120)}`,
        by: h.released.by,
        ...(h.released.approval_id ? { approval_id: h.released.approval_id } : {}),
      });
  }
  return out;
}
