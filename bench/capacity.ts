/**
 * capacity_report for 500 services (500 pods) on the Kubernetes emulator (target <= 500 ms), and
 * plan_capacity for one service among them (target <= 100 ms).
 * Run: npm exec -- tsx bench/capacity.ts
 */
import { startKubernetesEmulator } from '../src/sandbox/kubernetes/emulator.js';
import type { KubeObject } from '../src/sandbox/kubernetes/types.js';
import { capacityReport } from '../src/tools/deploys/capacity-report.js';
import { planCapacity } from '../src/tools/deploys/plan-capacity.js';
import { median, round } from './stats.js';
import { deploymentManifest, depsOver, timed } from './deploys-fixture.js';

const SERVICES = 500;
const NAMESPACES = Array.from({ length: 25 }, (_, i) => `team-${i}`);
const out = (line: string) => process.stdout.write(line + '\n');

const objects = Array.from(
  { length: SERVICES },
  (_, i) => deploymentManifest(NAMESPACES[i % NAMESPACES.length]!, `svc-${i}`, i, 1) as KubeObject,
);
for (const ns of NAMESPACES)
  objects.push({
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'compute', namespace: ns },
    spec: { hard: { 'requests.cpu': '40', 'requests.memory': '64Gi', pods: '200' } },
  });

const startedAt = performance.now();
const k = await startKubernetesEmulator({ objects, timing: { readyDelayMs: 1 } });
process.stderr.write(`emulator seeded in ${Math.round(performance.now() - startedAt)} ms\n`);
try {
  k.settle();
  await new Promise((r) => setTimeout(r, 200));
  const { ctx } = await depsOver(k, NAMESPACES);
  await capacityReport.run({ env: 'prod' }, ctx); // warm-up
  const samples: number[] = [];
  let total = 0;
  for (let i = 0; i < 7; i++) {
    const r = await timed(() => capacityReport.run({ env: 'prod' }, ctx));
    samples.push(r.ms);
    total = r.value.total;
  }
  const ms = median(samples);
  out(
    `capacity_report, ${total} services, ${k.store.list('v1', 'Pod').length} pods, ${NAMESPACES.length} namespaces: median ${round(ms, 1)} ms over ${samples.length} runs (target <= 500 ms: ${ms <= 500 ? 'pass' : 'FAIL'})`,
  );

  // plan_capacity for one service of the 500 at a time: its Deployment, HPAs, quotas, its
  // namespace's Deployments and pod metrics, then the arithmetic.
  const plans: number[] = [];
  for (let i = 0; i < 50; i++) {
    const n = (i * 37) % SERVICES;
    const r = await timed(() =>
      planCapacity.run(
        {
          env: 'prod',
          namespace: NAMESPACES[n % NAMESPACES.length]!,
          deployment: `svc-${n}`,
          load_factor: 3,
        },
        ctx,
      ),
    );
    if (i >= 5) plans.push(r.ms); // the first few warm the caches
  }
  const p = median(plans);
  out(
    `plan_capacity, one of ${SERVICES} services (${SERVICES / NAMESPACES.length} per namespace): median ${round(p, 1)} ms over ${plans.length} calls (target <= 100 ms: ${p <= 100 ? 'pass' : 'FAIL'})`,
  );
} finally {
  await k.close();
}
