import type { AlertmanagerProvider, ListAlertsOptions, Matcher } from './types.js';

/**
 * One environment's view of an Alertmanager that several environments share: alerts are listed
 * only where every label in `labels` matches (e.g. env=prod). Silences pass through unchanged,
 * since a silence carries its own matchers.
 */
export function scopedAlertmanager(
  p: AlertmanagerProvider,
  labels: Record<string, string>,
): AlertmanagerProvider {
  const scope: Matcher[] = Object.entries(labels).map(([name, value]) => ({
    name,
    value,
    isRegex: false,
    isEqual: true,
  }));
  if (scope.length === 0) return p;
  return {
    listAlerts: (o: ListAlertsOptions = {}) =>
      p.listAlerts({ ...o, filter: [...(o.filter ?? []), ...scope] }),
    postAlerts: (a) => p.postAlerts(a),
    listSilences: (o) => p.listSilences(o),
    createSilence: (s) => p.createSilence(s),
    expireSilence: (id) => p.expireSilence(id),
    previewSilence: (m) => p.previewSilence(m),
  };
}
