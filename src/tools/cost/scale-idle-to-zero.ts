import { z } from 'zod';
import { ConflictError } from '../../providers/errors.js';
import { money } from './prices.js';
import { costOf } from './report.js';
import { defineTool, ToolError } from '../../contract/define-tool.js';
import { envField, reasonField } from '../../contract/fields.js';
import { resolveEnvWith } from '../context/resolve-service.js';

/** Annotations a scale to zero leaves on the Deployment, so that it can be put back. */
export const PREVIOUS_REPLICAS_ANNOTATION = 'day2.dev/previous-replicas';
export const SCALED_TO_ZERO_AT_ANNOTATION = 'day2.dev/scaled-to-zero-at';

interface Planned {
  namespace: string;
  deployment: string;
  service: string;
  replicas: number;
  resource_version: string;
  monthly_savings: number;
}

export const scaleIdleToZero = defineTool({
  name: 'scale_idle_to_zero',
  title: 'Scale idle workloads to zero',
  description:
    'Scale idle workloads (per cost_report) to zero, recording replicas to restore; non-production by default.',
  toolset: 'cost',
  effect: 'write',
  risk: 'high',
  input: {
    env: envField,
    service: z.string().min(1).optional(),
    namespace: z.string().min(1).max(63).optional(),
    deployment: z.string().min(1).max(253).optional().describe('with namespace'),
    reason: reasonField,
  },
  output: {
    env: z.string(),
    scaled: z.array(
      z.object({
        namespace: z.string(),
        deployment: z.string(),
        service: z.string(),
        previous_replicas: z.number(),
        restore_with: z.object({
          tool: z.literal('scale_deployment'),
          arguments: z.record(z.string(), z.unknown()),
        }),
      }),
    ),
    skipped: z.array(z.object({ deployment: z.string(), why: z.string() })),
    monthly_savings: z.number(),
  },
  async plan(args, ctx) {
    const deps = ctx.deps;
    const env = resolveEnvWith(deps, args.env, 'kubernetes');
    const svc = args.service ? deps.catalog.resolver.service(args.service, { env }) : undefined;
    const workload = svc ? deps.catalog.workloadFor(svc.id, env) : undefined;
    if (svc && !workload)
      throw new ToolError(
        `service: the catalog links no Kubernetes workload to "${svc.id}" in ${env}`,
        'not_found',
        'service',
      );
    const namespace = workload?.namespace ?? args.namespace;
    const { envs, gaps } = await costOf(deps, [env], {
      orphans: false,
      hpas: true,
      signal: ctx.signal,
      namespaces: namespace ? [namespace] : undefined,
    });
    const found = envs[0];
    const wanted = (ns: string, name: string) =>
      (!workload || workload.name === name) &&
      (!args.deployment || args.deployment === name) &&
      (!namespace || namespace === ns);
    const idle = (found?.analysis.idle ?? []).filter((i) => wanted(i.namespace, i.deployment));
    const hpaTargets = new Set(
      (found?.snapshot.namespaces ?? []).flatMap((n) =>
        (n.hpas ?? [])
          .filter((h) => h.target.kind === 'Deployment')
          .map((h) => `${n.namespace}/${h.target.name}`),
      ),
    );
    const skipped = idle
      .filter((i) => hpaTargets.has(`${i.namespace}/${i.deployment}`))
      .map((i) => ({
        deployment: `${i.namespace}/${i.deployment}`,
        why: 'a HorizontalPodAutoscaler manages it and would scale it back up',
      }));
    const planned: Planned[] = idle
      .filter((i) => !hpaTargets.has(`${i.namespace}/${i.deployment}`))
      .map((i) => ({
        namespace: i.namespace,
        deployment: i.deployment,
        service: i.service,
        replicas: i.replicas,
        resource_version: i.resource_version,
        monthly_savings: i.monthly_savings,
      }));
    const k8s = deps.backends.kubernetes(env);
    // The real dry run: every patch is validated by the API server (dryRun=All) against the planned version.
    for (const p of planned)
      await k8s.patchDeployment(p.namespace, p.deployment, zeroPatch(p.replicas, deps.clock.now()), {
        type: 'merge',
        dryRun: true,
        resourceVersion: p.resource_version,
      });
    const savings = money(planned.reduce((t, p) => t + p.monthly_savings, 0));
    return {
      summary: planned.length
        ? `scale ${planned.length} idle deployment(s) in ${env} to zero (${planned
            .map((p) => `${p.namespace}/${p.deployment}`)
            .slice(0, 5)
            .join(', ')}${planned.length > 5 ? ', …' : ''}), saving about ${savings}/month`
        : `no idle deployment to scale in ${env}`,
      env,
      service: svc?.id,
      targets: planned.map((p) => ({
        kind: 'Deployment',
        namespace: p.namespace,
        name: p.deployment,
        service: p.service,
      })),
      // A deployment's savings and service follow from its spec (bound by resource_version), the
      // prices and the catalog; the skipped ones come from the same idle analysis as the planned.
      preconditions: { deployments: planned, skipped },
      details: {
        deployments: planned,
        skipped,
        monthly_savings: savings,
        patch: {
          spec: { replicas: 0 },
          metadata: {
            annotations: {
              [PREVIOUS_REPLICAS_ANNOTATION]: '<current replicas>',
              [SCALED_TO_ZERO_AT_ANNOTATION]: '<execution time>',
            },
          },
        },
        way_back: 'scale_deployment with replicas = the day2.dev/previous-replicas annotation',
        ...(gaps.length ? { not_read: gaps } : {}),
      },
      refusal:
        planned.length === 0
          ? `no idle deployment${svc ? ` for ${svc.id}` : ''} in ${env}${skipped.length ? ` that no HPA manages` : ''}; cost_report lists idle workloads`
          : undefined,
    };
  },
  async execute(args, ctx, plan) {
    const deps = ctx.deps;
    const k8s = deps.backends.kubernetes(plan.env);
    const scaled = [];
    const skipped = [...plan.preconditions.skipped];
    let savings = 0;
    for (const p of plan.preconditions.deployments) {
      try {
        await k8s.patchDeployment(p.namespace, p.deployment, zeroPatch(p.replicas, deps.clock.now()), {
          type: 'merge',
          resourceVersion: p.resource_version,
        });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        skipped.push({
          deployment: `${p.namespace}/${p.deployment}`,
          why: 'changed since the plan (resourceVersion); plan again',
        });
        continue;
      }
      savings += p.monthly_savings;
      scaled.push({
        namespace: p.namespace,
        deployment: p.deployment,
        service: p.service,
        previous_replicas: p.replicas,
        restore_with: {
          tool: 'scale_deployment' as const,
          arguments: {
            env: plan.env,
            namespace: p.namespace,
            deployment: p.deployment,
            replicas: p.replicas,
          },
        },
      });
    }
    return { env: plan.env, scaled, skipped, monthly_savings: money(savings) };
  },
  render: (o) =>
    [
      `Scaled ${o.scaled.length} idle deployment(s) in ${o.env} to zero, saving about ${o.monthly_savings}/month.`,
      ...o.scaled.map(
        (s) =>
          `${s.namespace}/${s.deployment}: ${s.previous_replicas} → 0 (restore: scale_deployment ${JSON.stringify(s.restore_with.arguments)})`,
      ),
      ...o.skipped.map((s) => `skipped ${s.deployment}: ${s.why}`),
    ].join('\n'),
});

function zeroPatch(replicas: number, now: Date) {
  return {
    metadata: {
      annotations: {
        [PREVIOUS_REPLICAS_ANNOTATION]: String(replicas),
        [SCALED_TO_ZERO_AT_ANNOTATION]: now.toISOString(),
      },
    },
    spec: { replicas: 0 },
  };
}
