/**
 * The one id day2 gives a silence or a downtime: what silence_alert, schedule_downtime and
 * mute_service return, what list_alerts shows in `silenced_by`, and what end_silence takes.
 */
export type SilenceRef = { source: 'alertmanager'; id: string } | { source: 'datadog'; id: string };

const ALERTMANAGER = 'silence:';
const DATADOG = 'datadog-downtime:';

export function alertmanagerSilenceId(id: string): string {
  return `${ALERTMANAGER}${id}`;
}

export function datadogDowntimeId(id: string | number): string {
  return `${DATADOG}${id}`;
}

/** The source and backend id of a day2 silence id, or undefined when it is neither form. */
export function parseSilenceId(text: string): SilenceRef | undefined {
  const t = text.trim();
  if (t.startsWith(ALERTMANAGER) && t.length > ALERTMANAGER.length)
    return { source: 'alertmanager', id: t.slice(ALERTMANAGER.length) };
  if (t.startsWith(DATADOG) && t.length > DATADOG.length)
    return { source: 'datadog', id: t.slice(DATADOG.length) };
  return undefined;
}
