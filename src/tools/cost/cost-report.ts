import { environmentConfig } from '../../config/lookup.js';
import { z } from 'zod';
import { P95_BASIS } from './analyze.js';
import { money } from './prices.js';
import { costOf, DEFAULT_IDLE_CPU_MILLICORES } from './report.js';
import { gapShape } from '../context/shapes.js';
import { resolveEnv } from '../context/resolve-service.js';
import { defineTool } from '../../contract/define-tool.js';
import { cursorField } from '../../contract/fields.js';
import { pageOf } from '../../contract/pages.js';
import { answerText, callText, gapsLine } from '../../contract/answer-text.js';

const amount = z.number().describe('per month, in the price table currency');
const owner = {
  service: z.string(),
  owner: z.string().optional().describe('owning team from the catalog or the owner label'),
};

export const costReport = defineTool({
  name: 'cost_report',
  title: 'Cost report',
  description:
    'Monthly cost of idle workloads, over-requested resources and orphans, with suggested savings.',
  toolset: 'cost',
  effect: 'read',
  risk: 'low',
  input: {
    env: z.string().min(1).optional().describe('default: all with Kubernetes'),
    namespace: z.string().min(1).max(63).optional(),
    limit: z
      .number()
      .int()
      .min(1)
      .max(200)
      .optional()
      .describe('rows per section (default 20); totals cover all'),
    cursor: cursorField,
  },
  output: {
    envs: z.array(
      z.object({
        env: z.string(),
        prices: z.object({
          vcpu_hour: z.number(),
          gib_hour: z.number(),
          storage_gib_month: z.number(),
          load_balancer_hour: z.number(),
        }),
      }),
    ),
    basis: z.object({ p95: z.string(), idle_cpu_millicores: z.number(), headroom: z.string() }),
    totals: z.object({
      idle_savings: amount,
      rightsizing_savings: amount,
      orphan_costs: amount,
      total: amount,
    }),
    counts: z.object({
      idle: z.number(),
      rightsizing: z.number(),
      orphans: z.number(),
      no_metrics: z.number(),
    }),
    idle: z.array(
      z.object({
        ...owner,
        env: z.string(),
        namespace: z.string(),
        deployment: z.string(),
        replicas: z.number(),
        p95_cpu_m: z.number(),
        p95_memory_mib: z.number(),
        requests: z.object({ cpu: z.string(), memory: z.string() }),
        monthly_savings: amount,
        fix: z
          .object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) })
          .optional()
          .describe('the call that scales it to zero (non-production)'),
      }),
    ),
    rightsizing: z.array(
      z.object({
        ...owner,
        env: z.string(),
        namespace: z.string(),
        deployment: z.string(),
        replicas: z.number(),
        requests: z.object({ cpu: z.string(), memory: z.string() }).describe('per pod'),
        p95: z.object({ cpu: z.string(), memory: z.string() }).describe('per pod'),
        suggested: z
          .object({ cpu: z.string(), memory: z.string() })
          .describe('per pod: p95 plus 30 % headroom'),
        cpu_request_vs_p95: z.number(),
        monthly_cost: amount,
        monthly_savings: amount,
        fix: z
          .object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) })
          .optional()
          .describe('the set_resources call that applies the suggestion (single-container pods)'),
      }),
    ),
    orphans: z.array(
      z.object({
        env: z.string(),
        kind: z.string(),
        namespace: z.string(),
        name: z.string(),
        why: z.string(),
        monthly_cost: amount,
      }),
    ),
    next_cursor: z.string().optional().describe('the next rows of every section'),
    gaps: z.array(gapShape),
  },
  scope: (args) => ({ env: args.env }),
  async run(args, ctx) {
    const deps = ctx.deps;
    const envs = args.env ? [resolveEnv(deps, args.env)] : Object.keys(deps.config.environments);
    const { envs: per, gaps } = await costOf(deps, envs, {
      orphans: true,
      signal: ctx.signal,
      namespaces: args.namespace ? [args.namespace] : undefined,
    });
    const idle = per.flatMap((p) => p.analysis.idle).sort((a, b) => b.monthly_savings - a.monthly_savings);
    const rightsizing = per
      .flatMap((p) => p.analysis.rightsizing)
      .sort((a, b) => b.monthly_savings - a.monthly_savings);
    const orphans = per.flatMap((p) => p.analysis.orphans).sort((a, b) => b.monthly_cost - a.monthly_cost);
    const total = (
      xs: { monthly_savings?: number; monthly_cost?: number }[],
      k: 'monthly_savings' | 'monthly_cost',
    ) => money(xs.reduce((t, x) => t + (x[k] ?? 0), 0));
    const totals = {
      idle_savings: total(idle, 'monthly_savings'),
      rightsizing_savings: total(rightsizing, 'monthly_savings'),
      orphan_costs: total(orphans, 'monthly_cost'),
      total: 0,
    };
    totals.total = money(totals.idle_savings + totals.rightsizing_savings + totals.orphan_costs);
    // One cursor pages every section alike: page n shows rows n·limit… of each.
    const pages = [pageOf(idle, args), pageOf(rightsizing, args), pageOf(orphans, args)] as const;
    return {
      envs: per.map((p) => ({ env: p.env, prices: p.prices })),
      basis: {
        p95: P95_BASIS,
        idle_cpu_millicores: deps.config.cost?.idle_cpu_millicores ?? DEFAULT_IDLE_CPU_MILLICORES,
        headroom: 'suggested requests = p95 × 1.3, rounded up',
      },
      totals,
      counts: {
        idle: idle.length,
        rightsizing: rightsizing.length,
        orphans: orphans.length,
        no_metrics: per.reduce((t, p) => t + p.analysis.no_metrics.length, 0),
      },
      idle: pages[0].items.map((i) => ({
        service: i.service,
        owner: i.owner,
        env: i.env,
        namespace: i.namespace,
        deployment: i.deployment,
        replicas: i.replicas,
        p95_cpu_m: i.p95_cpu_m,
        p95_memory_mib: i.p95_memory_mib,
        requests: i.requests,
        monthly_savings: i.monthly_savings,
        fix:
          environmentConfig(deps.config, i.env)?.tier === 'production'
            ? undefined
            : {
                tool: 'scale_idle_to_zero',
                arguments: { env: i.env, namespace: i.namespace, deployment: i.deployment },
              },
      })),
      rightsizing: pages[1].items,
      orphans: pages[2].items.map(({ owner: _o, ...o }) => o),
      next_cursor: pages.find((p) => p.next_cursor)?.next_cursor,
      gaps,
    };
  },
  render: (o, args) => {
    const shown = (
      [
        ['idle', o.idle.length, o.counts.idle],
        ['over-requested', o.rightsizing.length, o.counts.rightsizing],
        ['orphans', o.orphans.length, o.counts.orphans],
      ] as const
    ).filter(([, n, of]) => n < of);
    const { cursor: _previous, ...rest } = args;
    return answerText({
      head: [
        `Savings per month: ${o.totals.total} (idle ${o.totals.idle_savings}, rightsizing ${o.totals.rightsizing_savings}, orphans ${o.totals.orphan_costs}); ${o.counts.idle} idle, ${o.counts.rightsizing} over-requested, ${o.counts.orphans} orphans`,
      ],
      rows: [
        ...o.idle.map(
          (i) =>
            `idle: ${i.env}/${i.namespace}/${i.deployment} (${i.service}) ${i.replicas} replicas at p95 ${i.p95_cpu_m}m CPU; requests ${i.requests.cpu}/${i.requests.memory} per pod; save ${i.monthly_savings}/month${i.fix ? `; fix: ${callText(i.fix.tool, i.fix.arguments)}` : ''}`,
        ),
        ...o.rightsizing.map(
          (r) =>
            `over-requested: ${r.env}/${r.namespace}/${r.deployment} (${r.service}) requests ${r.requests.cpu}/${r.requests.memory}, p95 ${r.p95.cpu}/${r.p95.memory}, suggest ${r.suggested.cpu}/${r.suggested.memory}; save ${r.monthly_savings}/month`,
        ),
        ...o.orphans.map(
          (x) => `orphan: ${x.env} ${x.kind} ${x.namespace}/${x.name}: ${x.why} (${x.monthly_cost}/month)`,
        ),
      ],
      tail: [
        shown.length &&
          `showing ${shown.map(([what, n, of]) => `${n} of ${of} ${what}`).join(', ')}${
            o.next_cursor ? `; next page: ${callText('cost_report', { ...rest, cursor: o.next_cursor })}` : ''
          }`,
        o.counts.no_metrics &&
          `${o.counts.no_metrics} deployment(s) had no usage metrics and were not judged (capacity_report flags them no_metrics).`,
        gapsLine(o.gaps),
      ],
    });
  },
});
