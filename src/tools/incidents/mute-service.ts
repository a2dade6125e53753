import { z } from 'zod';
import { environmentConfig } from '../../config/lookup.js';
import { defineTool, type Plan, ToolError } from '../../contract/define-tool.js';
import { durationField, durationMs, envField, serviceField } from '../../contract/fields.js';
import { formatMatcher, parseMatcher } from '../../providers/alertmanager/matchers.js';
import type { Matcher } from '../../providers/alertmanager/types.js';
import { untrusted } from '../context/gather.js';
import { resolveEnv } from '../context/resolve-service.js';
import { alertmanagerSilenceId, datadogDowntimeId } from '../context/silence-id.js';
import { ENV_LABEL } from './silence-scope.js';

const MAX_MUTE_MS = 7 * 86_400_000;
/** How many alerts of each source the plan lists by name. */
const LISTED = 50;

interface MutePlan {
  /** Alertmanager matchers, formatted; null when the environment has no Alertmanager. */
  matchers: string[] | null;
  would_silence: { fingerprint: string; alertname: string }[];
  /** Datadog downtime scope and monitor tags; null when the environment has no Datadog. */
  downtime: { scope: string; monitor_tags: string[] } | null;
  would_mute: number[];
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The Alertmanager matchers that select a service's alerts by any of its names, in one env. */
function serviceMatchers(names: string[], env: string): Matcher[] {
  const service: Matcher =
    names.length === 1
      ? { name: 'service', value: names[0]!, isRegex: false, isEqual: true }
      : { name: 'service', value: names.map(escapeRegex).join('|'), isRegex: true, isEqual: true };
  return [service, { name: ENV_LABEL, value: env, isRegex: false, isEqual: true }];
}

export const muteService = defineTool({
  name: 'mute_service',
  title: 'Mute a service',
  description: "Mute a service's alerts in all sources, all or nothing.",
  toolset: 'incidents',
  effect: 'write',
  risk: 'low',
  input: {
    service: serviceField,
    env: envField,
    duration: durationField('e.g. 1h; at most 7d'),
    reason: z.string().min(3).max(500),
  },
  output: {
    service: z.string(),
    env: z.string(),
    ends_at: z.string(),
    ids: z.array(z.string()),
    silenced: z.array(z.object({ source: z.string(), id: z.string(), name: z.string() })),
  },
  async plan(args, ctx): Promise<Plan<MutePlan>> {
    const deps = ctx.deps;
    const env = resolveEnv(deps, args.env);
    const svc = deps.catalog.resolver.findService(args.service, env);
    if (!svc) throw deps.catalog.resolver.refuse(args.service, 'service', { env });
    if (durationMs(args.duration)! > MAX_MUTE_MS)
      throw new ToolError('duration: a mute lasts at most 7d; ask for less', 'invalid_input', 'duration');
    const hasAm = deps.backends.has(env, 'alertmanager');
    const hasDd = deps.backends.has(env, 'datadog');
    if (!hasAm && !hasDd)
      throw new ToolError(
        `env: environment "${env}" has no alert source (environments.${env}.alertmanager or .datadog)`,
        'not_configured',
        'env',
      );

    const matchers = hasAm ? serviceMatchers(deps.catalog.resolver.namesOf(svc.id, env), env) : null;
    const alerts = matchers
      ? (await deps.backends.alertmanager(env).previewSilence(matchers)).sort((a, b) =>
          a.fingerprint.localeCompare(b.fingerprint),
        )
      : [];
    const envTag = environmentConfig(deps.config, env)?.datadog?.scope_tag ?? `env:${env}`;
    const downtime = hasDd
      ? { scope: envTag, monitor_tags: [`service:${svc.datadogService ?? svc.id}`, envTag] }
      : null;
    const monitors = downtime
      ? (
          await deps.backends.datadog(env).scheduleDowntime(
            {
              scope: downtime.scope,
              monitorTags: downtime.monitor_tags,
              end: new Date(deps.clock.now().getTime() + durationMs(args.duration)!).toISOString(),
            },
            { dryRun: true },
          )
        ).plan.affectedMonitors.sort((a, b) => a.id - b.id)
      : [];

    const sources = [
      ...(matchers ? [`Alertmanager (${alerts.length} alert(s))`] : []),
      ...(downtime ? [`Datadog (${monitors.length} monitor(s))`] : []),
    ];
    const warnings: string[] = [];
    if (alerts.length + monitors.length === 0)
      warnings.push('nothing fires for the service now: the mute only catches what fires later');
    return {
      summary: `mute ${svc.id} in ${env} for ${args.duration} in ${sources.join(' and ')}; ${env} only`,
      env,
      service: svc.id,
      targets: [
        ...(matchers
          ? [{ kind: 'silence', name: matchers.map(formatMatcher).join(','), service: svc.id }]
          : []),
        ...(downtime ? [{ kind: 'downtime', name: downtime.monitor_tags.join(','), service: svc.id }] : []),
      ],
      preconditions: {
        matchers: matchers?.map(formatMatcher) ?? null,
        would_silence: alerts.map((a) => ({
          fingerprint: a.fingerprint,
          alertname: untrusted(a.labels.alertname, 120),
        })),
        downtime,
        would_mute: monitors.map((m) => m.id),
      },
      details: {
        alertmanager: matchers
          ? {
              matchers: matchers.map(formatMatcher),
              would_silence: alerts.slice(0, LISTED).map((a) => ({
                fingerprint: a.fingerprint,
                alertname: untrusted(a.labels.alertname, 120),
                severity: a.labels.severity ?? null,
              })),
              would_silence_count: alerts.length,
            }
          : 'not configured in this environment',
        datadog: downtime
          ? {
              ...downtime,
              would_mute: monitors.slice(0, LISTED).map((m) => ({ id: m.id, name: untrusted(m.name, 120) })),
              would_mute_count: monitors.length,
            }
          : 'not configured in this environment',
        duration: args.duration,
        reason: args.reason,
        warnings,
        all_or_nothing: 'if the Datadog downtime fails, the Alertmanager silence is expired again',
        way_back: 'end_silence with each returned id; both also end by themselves',
      },
    };
  },
  async execute(args, ctx, plan) {
    const deps = ctx.deps;
    const { matchers, downtime } = plan.preconditions;
    const now = deps.clock.now();
    const ends = new Date(now.getTime() + durationMs(args.duration)!);
    const note = `day2 (${ctx.principal.id}): ${args.reason}`;
    let silenceId: string | undefined;
    if (matchers)
      silenceId = await deps.backends.alertmanager(plan.env).createSilence({
        matchers: matchers.map(parseMatcher),
        startsAt: now,
        endsAt: ends,
        createdBy: `day2:${ctx.principal.id}`,
        comment: note,
      });
    let downtimeId: string | undefined;
    if (downtime) {
      try {
        const res = await deps.backends.datadog(plan.env).scheduleDowntime({
          scope: downtime.scope,
          monitorTags: downtime.monitor_tags,
          start: now.toISOString(),
          end: ends.toISOString(),
          message: note,
        });
        if (res.dryRun) throw new Error('Datadog provider answered a real downtime request with a dry run');
        downtimeId = res.downtime.id;
      } catch (err) {
        if (silenceId === undefined) throw err;
        throw await rolledBack(err, silenceId, () =>
          deps.backends.alertmanager(plan.env).expireSilence(silenceId),
        );
      }
    }
    const ids = [
      ...(silenceId ? [alertmanagerSilenceId(silenceId)] : []),
      ...(downtimeId ? [datadogDowntimeId(downtimeId)] : []),
    ];
    return {
      service: plan.service ?? args.service,
      env: plan.env,
      ends_at: ends.toISOString(),
      ids,
      silenced: [
        ...plan.preconditions.would_silence.map((a) => ({
          source: 'alertmanager',
          id: ids[0]!,
          name: a.alertname,
        })),
        ...plan.preconditions.would_mute.map((m) => ({
          source: 'datadog',
          id: ids[ids.length - 1]!,
          name: `monitor ${m}`,
        })),
      ].slice(0, LISTED),
    };
  },
  render: (o) =>
    `Muted ${o.service} in ${o.env} until ${o.ends_at}: ${o.silenced.length} alert(s) and monitor(s) now quiet. ` +
    `End early with end_silence for each of: ${o.ids.join(', ')}.`,
});

/** The error for a half-made mute: the first source's silence is expired again, or said to remain. */
async function rolledBack(
  cause: unknown,
  silenceId: string,
  expire: () => Promise<void>,
): Promise<ToolError> {
  const why = cause instanceof Error ? cause.message : String(cause);
  const id = alertmanagerSilenceId(silenceId);
  try {
    await expire();
  } catch (err) {
    return new ToolError(
      `mute_service: the Datadog downtime failed (${why}), and expiring the Alertmanager silence ${id} failed too (${err instanceof Error ? err.message : String(err)}): call end_silence {id: "${id}"}`,
      'partial_failure',
    );
  }
  return new ToolError(
    `mute_service: the Datadog downtime failed (${why}); rolled back: the Alertmanager silence ${id} was expired, so nothing is muted. Retry when Datadog answers.`,
    'backend_failed',
  );
}
