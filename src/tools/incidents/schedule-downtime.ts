import { environmentConfig } from '../../config/lookup.js';
import { z } from 'zod';
import { defineTool, type Plan, ToolError } from '../../contract/define-tool.js';
import { allEnvironmentsField, durationField, durationMs, envField } from '../../contract/fields.js';
import { resolveEnvWith } from '../context/resolve-service.js';
import { untrusted } from '../context/gather.js';
import type { ScheduleDowntimeInput } from '../../providers/datadog/types.js';
import { datadogDowntimeId } from '../context/silence-id.js';
import { envScopedDowntime } from './silence-scope.js';

const MAX_DOWNTIME_MS = 7 * 86_400_000;

export const scheduleDowntime = defineTool({
  name: 'schedule_downtime',
  title: 'Schedule a Datadog downtime',
  description: 'Mute Datadog monitors for a while.',
  toolset: 'incidents',
  effect: 'write',
  risk: 'low',
  input: {
    env: envField,
    monitor_id: z.number().int().positive().optional().describe('or monitor_tags'),
    monitor_tags: z.array(z.string().min(3).max(200)).max(10).optional().describe('all must match'),
    scope: z.string().min(1).max(300).optional().describe('ANDed with env tag'),
    duration: durationField('e.g. 1h; at most 7d'),
    message: z.string().min(3).max(500),
    all_environments: allEnvironmentsField,
  },
  output: {
    downtime_id: z.string(),
    scope: z.string(),
    start: z.string().nullable(),
    end: z.string().nullable(),
    muted_monitors: z.array(z.object({ id: z.number(), name: z.string() })),
  },
  async plan(args, ctx): Promise<Plan<{ scope: string; monitor_tags: string[] | null; monitors: number[] }>> {
    const deps = ctx.deps;
    const env = resolveEnvWith(deps, args.env, 'datadog');
    if (
      (args.monitor_id === undefined) ===
      (args.monitor_tags === undefined || args.monitor_tags.length === 0)
    )
      throw new ToolError(
        'monitor_id: give exactly one of monitor_id or monitor_tags',
        'invalid_input',
        'monitor_id',
      );
    const ms = durationMs(args.duration)!;
    if (ms > MAX_DOWNTIME_MS)
      throw new ToolError('duration: a downtime lasts at most 7d; ask for less', 'invalid_input', 'duration');
    const envScopeTag = environmentConfig(deps.config, env)?.datadog?.scope_tag ?? `env:${env}`;
    const scoped = envScopedDowntime(args.scope, envScopeTag, args.all_environments === true);
    const scope = scoped.value;
    const given = (args.monitor_tags ?? []).filter((t) => t !== '*');
    // Monitors of other environments have no group inside an env scope: select only this env's.
    const envTag = args.all_environments ? undefined : envScopeTag;
    const envKey = envScopeTag.split(':')[0] + ':';
    const tags =
      envTag && given.length > 0 && !given.some((t) => t.startsWith(envKey)) ? [...given, envTag] : given;
    const tagged = [...tags, scope].map((t) => /^service:(.+)$/.exec(t)?.[1]).find(Boolean);
    // Policy and audit see the catalog's service, whichever of its names the tag carries.
    const service = tagged && (deps.catalog.resolver.attribute(tagged, env) ?? tagged);
    const targets = [
      {
        kind: 'downtime',
        name: args.monitor_id !== undefined ? `monitor:${args.monitor_id}` : tags.join(','),
        ...(service ? { service } : {}),
      },
    ];
    const everything = args.monitor_tags !== undefined && given.length === 0;
    const refusal = everything
      ? 'monitor_tags ["*"] mutes every monitor: name a monitor or tags such as service:checkout'
      : scoped.refusal;
    if (refusal)
      return {
        summary: everything ? `mute every monitor in ${env}` : `mute monitors in scope ${scope}`,
        env,
        service,
        targets,
        preconditions: {},
        details: { scope, covers: scoped.covers },
        refusal,
      };

    const input = downtimeInput(
      { ...args, monitor_tags: args.monitor_id === undefined ? tags : undefined },
      scope,
      deps.clock.now(),
    );
    const res = await deps.backends.datadog(env).scheduleDowntime(input, { dryRun: true });
    const affected = res.plan.affectedMonitors
      .map((m) => ({ id: m.id, name: untrusted(m.name, 120), state: m.state, already_muted: m.alreadyMuted }))
      .sort((a, b) => a.id - b.id);
    return {
      summary: `mute ${affected.length} Datadog monitor(s) in scope ${scope} for ${args.duration}; covers ${scoped.covers}`,
      env,
      service,
      targets,
      preconditions: {
        scope,
        monitor_tags: args.monitor_id === undefined ? tags : null,
        monitors: affected.map((m) => m.id),
      },
      details: {
        scope,
        covers: scoped.covers,
        monitor_identifier:
          args.monitor_id !== undefined ? { monitor_id: args.monitor_id } : { monitor_tags: tags },
        duration: args.duration,
        message: args.message,
        would_mute: affected.slice(0, 50),
        would_mute_count: affected.length,
        warnings: res.plan.warnings,
        way_back: 'end_silence ends it early; it also ends by itself',
      },
    };
  },
  async execute(args, ctx, plan) {
    const deps = ctx.deps;
    const { scope, monitor_tags: tags } = plan.preconditions;
    const input = downtimeInput(
      { ...args, monitor_tags: tags ?? undefined },
      scope,
      deps.clock.now(),
      ctx.principal.id,
    );
    const res = await deps.backends.datadog(plan.env).scheduleDowntime(input);
    if (res.dryRun) throw new Error('Datadog provider answered a real downtime request with a dry run');
    return {
      downtime_id: datadogDowntimeId(res.downtime.id),
      scope: res.downtime.scope,
      start: res.downtime.start,
      end: res.downtime.end,
      muted_monitors: res.plan.affectedMonitors
        .map((m) => ({ id: m.id, name: untrusted(m.name, 120) }))
        .slice(0, 50),
    };
  },
  render: (o) =>
    `Downtime ${o.downtime_id} on ${o.scope} until ${o.end ?? 'cancelled'}: ${o.muted_monitors.length} monitor(s) muted.`,
});

function downtimeInput(
  args: { monitor_id?: number; monitor_tags?: string[]; duration: string; message: string },
  scope: string,
  now: Date,
  principal?: string,
): ScheduleDowntimeInput {
  return {
    scope,
    ...(args.monitor_id !== undefined ? { monitorId: args.monitor_id } : { monitorTags: args.monitor_tags }),
    start: now.toISOString(),
    end: new Date(now.getTime() + durationMs(args.duration)!).toISOString(),
    // The day2 prefix marks the downtime as self-service for day2://metrics.
    message: principal ? `day2 (${principal}): ${args.message}` : args.message,
  };
}
