import { z } from 'zod';
import { environmentConfig } from '../../config/lookup.js';
import { defineTool, type Plan, ToolError } from '../../contract/define-tool.js';
import type { Deps } from '../../contract/deps.js';
import { formatMatcher } from '../../providers/alertmanager/matchers.js';
import type { Silence } from '../../providers/alertmanager/types.js';
import type { DatadogDowntime } from '../../providers/datadog/types.js';
import { untrusted } from '../context/gather.js';
import { resolveEnv } from '../context/resolve-service.js';
import { parseSilenceId, type SilenceRef } from '../context/silence-id.js';
import { ENV_LABEL } from './silence-scope.js';

/** How many alerts the plan lists by name. */
const LISTED = 50;

type Found =
  | { source: 'alertmanager'; env: string; silence: Silence }
  | { source: 'datadog'; env: string; downtime: DatadogDowntime };

/**
 * The environment that holds a silence or downtime, read from each environment with that source
 * (or the one given). A source several environments share answers in each: the one whose env
 * matcher or scope tag names the environment wins.
 */
async function find(deps: Deps, ref: SilenceRef, envArg: string | undefined): Promise<Found | undefined> {
  const envs = envArg ? [resolveEnv(deps, envArg)] : Object.keys(deps.config.environments);
  const hits: Found[] = [];
  for (const env of envs.filter((e) => deps.backends.has(e, ref.source))) {
    if (ref.source === 'alertmanager') {
      const silence = (await deps.backends.alertmanager(env).listSilences()).find((s) => s.id === ref.id);
      if (silence) hits.push({ source: 'alertmanager', env, silence });
    } else {
      const downtime = (await deps.backends.datadog(env).listDowntimes({ currentOnly: false })).find(
        (d) => d.id === ref.id,
      );
      if (downtime) hits.push({ source: 'datadog', env, downtime });
    }
  }
  const names = (f: Found) =>
    f.source === 'alertmanager'
      ? f.silence.matchers.some((m) => m.name === ENV_LABEL && !m.isRegex && m.value === f.env)
      : f.downtime.scope
          .split(/\s+AND\s+|,/)
          .some(
            (t) => t.trim() === (environmentConfig(deps.config, f.env)?.datadog?.scope_tag ?? `env:${f.env}`),
          );
  return hits.find(names) ?? hits[0];
}

export const endSilence = defineTool({
  name: 'end_silence',
  title: 'End a silence or downtime',
  description: 'End a silence or downtime early.',
  toolset: 'incidents',
  effect: 'write',
  risk: 'low',
  input: {
    id: z.string().min(3).max(200).describe('as in silenced_by'),
    env: z.string().min(1).optional(),
  },
  output: {
    id: z.string(),
    source: z.enum(['alertmanager', 'datadog']),
    env: z.string(),
    ended_at: z.string(),
  },
  async plan(
    args,
    ctx,
  ): Promise<Plan<{ source: 'alertmanager' | 'datadog'; backend_id: string; was: string }>> {
    const deps = ctx.deps;
    const ref = parseSilenceId(args.id);
    if (!ref)
      throw new ToolError(
        `id: "${untrusted(args.id, 80)}" is not a day2 silence id; ids read silence:<id> or datadog-downtime:<id>, as list_alerts shows in silenced_by`,
        'invalid_input',
        'id',
      );
    const found = await find(deps, ref, args.env);
    if (!found)
      throw new ToolError(
        `id: no ${ref.source === 'alertmanager' ? 'Alertmanager silence' : 'Datadog downtime'} ${args.id}${args.env ? ` in ${args.env}` : ''}; list_alerts {include_silenced: true} shows the ids in use`,
        'not_found',
        'id',
      );
    const env = found.env;
    const state = found.source === 'alertmanager' ? found.silence.state : found.downtime.status;
    const ends = found.source === 'alertmanager' ? found.silence.endsAt : found.downtime.end;
    const covers =
      found.source === 'alertmanager'
        ? found.silence.matchers.map(formatMatcher).join(', ')
        : `scope ${found.downtime.scope}, monitors ${found.downtime.monitorId ?? found.downtime.monitorTags?.join(',')}`;
    const base = {
      env,
      targets: [{ kind: found.source === 'alertmanager' ? 'silence' : 'downtime', name: args.id }],
    };
    const over =
      found.source === 'alertmanager' ? state === 'expired' : ['ended', 'canceled'].includes(state);
    if (over)
      return {
        ...base,
        summary: `end ${args.id}, already ${state}`,
        preconditions: {},
        details: { covers, state },
        refusal: `${args.id} has already ${state === 'expired' ? 'expired' : state}; nothing to end`,
      };
    const quiet =
      found.source === 'alertmanager'
        ? (await deps.backends.alertmanager(env).listAlerts({ active: false, inhibited: false }))
            .filter((a) => a.status.silencedBy.includes(ref.id))
            .map((a) => untrusted(a.labels.alertname, 120))
        : (await deps.backends.datadog(env).activeAlerts())
            .filter((a) => a.downtimes.some((d) => d.id === ref.id))
            .map((a) => untrusted(a.name, 120));
    return {
      ...base,
      summary: `end ${args.id} (${covers}) in ${env} now instead of ${ends ?? 'never'}: ${quiet.length} alert(s) notify again`,
      preconditions: { source: found.source, backend_id: ref.id, was: state },
      details: {
        covers,
        state,
        ends_at: ends,
        note: untrusted(
          found.source === 'alertmanager' ? found.silence.comment : found.downtime.message,
          300,
        ),
        would_notify_again: quiet.slice(0, LISTED),
        would_notify_again_count: quiet.length,
        way_back: 'mute_service, silence_alert or schedule_downtime makes a new one',
      },
    };
  },
  async execute(args, ctx, plan) {
    const deps = ctx.deps;
    const { source, backend_id: id } = plan.preconditions;
    if (source === 'alertmanager') await deps.backends.alertmanager(plan.env).expireSilence(id);
    else await deps.backends.datadog(plan.env).cancelDowntime(id);
    return { id: args.id, source, env: plan.env, ended_at: deps.clock.now().toISOString() };
  },
  render: (o) => `Ended ${o.id} (${o.source}, ${o.env}) at ${o.ended_at}; its alerts notify again.`,
});
