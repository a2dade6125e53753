import { z } from 'zod';
import { defineTool, type Plan, ToolError } from '../../contract/define-tool.js';
import { allEnvironmentsField, durationField, durationMs, envField } from '../../contract/fields.js';
import { resolveEnvWith } from '../context/resolve-service.js';
import { formatMatcher, InvalidMatcherError, parseMatcher } from '../../providers/alertmanager/matchers.js';
import type { Alert, Matcher } from '../../providers/alertmanager/types.js';
import { untrusted } from '../context/gather.js';
import { alertmanagerSilenceId } from '../context/silence-id.js';
import { envScopedMatchers, tooBroad } from './silence-scope.js';

const MAX_SILENCE_MS = 7 * 86_400_000;
/** How many matching alerts the plan and the result list by name. */
const LISTED = 50;

function parseMatchers(texts: string[]): Matcher[] {
  return texts.map((t, i) => {
    try {
      return parseMatcher(t);
    } catch (err) {
      if (err instanceof InvalidMatcherError)
        throw new ToolError(`matchers[${i}]: ${err.message}`, 'invalid_input', 'matchers');
      throw err;
    }
  });
}

/** What the result names of each alert a silence catches. */
type SilencedAlert = Pick<ReturnType<typeof alertView>, 'fingerprint' | 'alertname' | 'service' | 'env'>;

function alertView(a: Alert) {
  return {
    fingerprint: a.fingerprint,
    alertname: untrusted(a.labels.alertname, 120),
    service: a.labels.service ?? null,
    env: a.labels.env ?? null,
    severity: a.labels.severity ?? null,
    state: a.status.state,
    already_silenced_by: a.status.silencedBy,
  };
}

export const silenceAlert = defineTool({
  name: 'silence_alert',
  title: 'Silence alerts',
  description: 'Silence Alertmanager alerts; plan lists them.',
  toolset: 'incidents',
  effect: 'write',
  risk: 'low',
  input: {
    env: envField,
    matchers: z.array(z.string().min(3).max(300)).max(20).describe('e.g. alertname=X, service=~a|b'),
    duration: durationField('e.g. 30m; at most 7d'),
    comment: z.string().min(3).max(500),
    all_environments: allEnvironmentsField,
  },
  output: {
    silence_id: z.string(),
    starts_at: z.string(),
    ends_at: z.string(),
    matchers: z.array(z.string()),
    silenced: z.array(
      z.object({
        fingerprint: z.string(),
        alertname: z.string(),
        service: z.string().nullable(),
        env: z.string().nullable(),
      }),
    ),
  },
  async plan(args, ctx): Promise<Plan<{ matchers: string[]; would_silence: SilencedAlert[] }>> {
    const deps = ctx.deps;
    const env = resolveEnvWith(deps, args.env, 'alertmanager');
    const given = parseMatchers(args.matchers);
    const ms = durationMs(args.duration)!;
    if (ms > MAX_SILENCE_MS)
      throw new ToolError('duration: a silence lasts at most 7d; ask for less', 'invalid_input', 'duration');
    const label = given.find((m) => m.name === 'service' && !m.isRegex && (m.isEqual ?? true))?.value;
    // Policy and audit see the catalog's service, whichever of its names the label carries.
    const service = label && (deps.catalog.resolver.attribute(label, env) ?? label);
    const scoped = envScopedMatchers(given, env, args.all_environments === true);
    const matchers = scoped.value;
    const formatted = matchers.map(formatMatcher);
    // Breadth is judged on what was asked: the env matcher day2 adds narrows nothing by itself.
    const broad = tooBroad(given) ?? scoped.refusal;
    const base = {
      env,
      service,
      targets: [
        { kind: 'silence', name: formatted.join(',') || '(no matchers)', ...(service ? { service } : {}) },
      ],
    };
    if (broad)
      return {
        ...base,
        summary: `silence ${formatted.join(', ') || 'everything'} in ${env}`,
        preconditions: {},
        details: { matchers: formatted, covers: scoped.covers },
        refusal: broad,
      };

    const preview = (await deps.backends.alertmanager(env).previewSilence(matchers)).sort((a, b) =>
      a.fingerprint.localeCompare(b.fingerprint),
    );
    const views = preview.map(alertView);
    const services = [
      ...new Set(
        views.map(
          (v) => (v.service && deps.catalog.resolver.attribute(v.service, env)) ?? v.service ?? '(none)',
        ),
      ),
    ].sort();
    const envs = [...new Set(views.map((v) => v.env ?? '(none)'))].sort();
    const warnings: string[] = [];
    if (views.length === 0)
      warnings.push('no current alert matches: the silence would only catch alerts that fire later');
    if (services.length > 1)
      warnings.push(`the matchers select alerts of ${services.length} services: ${services.join(', ')}`);
    if (envs.some((e) => e !== env))
      warnings.push(`the matchers select alerts outside ${env}: ${envs.filter((e) => e !== env).join(', ')}`);
    return {
      ...base,
      summary: `silence ${views.length} alert(s) matching ${formatted.join(', ')} for ${args.duration}; covers ${scoped.covers}`,
      // Everything here follows from an alert's labels, which its fingerprint is a hash of: binding
      // the names the result reports binds nothing the fingerprints did not.
      preconditions: {
        matchers: formatted,
        would_silence: views.map((v) => ({
          fingerprint: v.fingerprint,
          alertname: v.alertname,
          service: v.service,
          env: v.env,
        })),
      },
      details: {
        matchers: formatted,
        covers: scoped.covers,
        duration: args.duration,
        comment: args.comment,
        would_silence: views.slice(0, LISTED),
        would_silence_count: views.length,
        services,
        warnings,
        way_back: 'end_silence ends it early; it also ends by itself',
      },
    };
  },
  async execute(args, ctx, plan) {
    const deps = ctx.deps;
    const now = deps.clock.now();
    const ends = new Date(now.getTime() + durationMs(args.duration)!);
    const matchers = parseMatchers(plan.preconditions.matchers);
    const id = await deps.backends.alertmanager(plan.env).createSilence({
      matchers,
      startsAt: now,
      endsAt: ends,
      createdBy: `day2:${ctx.principal.id}`,
      comment: args.comment,
    });
    return {
      silence_id: alertmanagerSilenceId(id),
      starts_at: now.toISOString(),
      ends_at: ends.toISOString(),
      matchers: matchers.map(formatMatcher),
      silenced: plan.preconditions.would_silence.slice(0, LISTED),
    };
  },
  render: (o) =>
    `Silence ${o.silence_id} until ${o.ends_at} on ${o.matchers.join(', ')}: ${o.silenced.length} alert(s) silenced.`,
});
