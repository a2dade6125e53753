import { costOf } from '../../report.js';
import { isProduction, type BacklogItem, type BacklogSource } from '../item.js';

/** Idle workloads (with the scale_idle_to_zero call outside production), over-requests and paid-for orphans. */
export const costSource: BacklogSource = {
  name: 'cost',
  category: 'cost',
  async collect({ deps, envs, quarterEnd, tool }) {
    const { envs: per, gaps } = await costOf(deps, envs, { orphans: true, signal: tool?.signal });
    const items: BacklogItem[] = [];
    for (const { env, analysis } of per) {
      const prod = isProduction(deps, env);
      for (const i of analysis.idle)
        items.push({
          id: `cost:${env}:idle:${i.namespace}/${i.deployment}`,
          category: 'cost',
          title: `Idle: ${i.namespace}/${i.deployment} runs ${i.replicas} replica(s) at p95 ${i.p95_cpu_m}m CPU`,
          env,
          service: i.service,
          owner: i.owner,
          due: quarterEnd,
          risk: 'low',
          detail: `requests ${i.requests.cpu} CPU / ${i.requests.memory} per pod`,
          monthly_savings: i.monthly_savings,
          ...(prod
            ? {
                action:
                  'production: scale it down with scale_deployment or retire it; scale_idle_to_zero is non-production only',
              }
            : {
                fix: {
                  tool: 'scale_idle_to_zero',
                  arguments: { env, namespace: i.namespace, deployment: i.deployment },
                },
              }),
        });
      for (const r of analysis.rightsizing)
        items.push({
          id: `cost:${env}:rightsize:${r.namespace}/${r.deployment}`,
          category: 'cost',
          title: `Over-requested: ${r.namespace}/${r.deployment} requests ${r.requests.cpu} CPU / ${r.requests.memory}, p95 ${r.p95.cpu} / ${r.p95.memory}`,
          env,
          service: r.service,
          owner: r.owner,
          due: quarterEnd,
          risk: 'low',
          detail: `suggested requests ${r.suggested.cpu} CPU / ${r.suggested.memory} per pod (p95 + 30 %)`,
          monthly_savings: r.monthly_savings,
          // Applied live by set_resources; the service's manifest should follow, or drift detection
          // will report the difference.
          ...(r.fix
            ? { fix: r.fix }
            : {
                action: `lower the requests in the service's manifest to ${r.suggested.cpu} CPU / ${r.suggested.memory}, then deploy`,
              }),
        });
      for (const o of analysis.orphans)
        items.push({
          id: `cost:${env}:orphan:${o.kind}/${o.namespace}/${o.name}`,
          category: 'cost',
          title: `Orphan ${o.kind} ${o.namespace}/${o.name}`,
          env,
          owner: o.owner,
          due: quarterEnd,
          risk: 'low',
          detail: o.why,
          ...(o.monthly_cost > 0 ? { monthly_savings: o.monthly_cost } : {}),
          action: `confirm nobody needs ${o.kind} ${o.namespace}/${o.name}, then delete it through its owner's manifests`,
        });
    }
    return { items, gaps };
  },
};
