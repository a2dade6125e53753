/**
 * detect_drift over 1,000 desired objects against the Kubernetes emulator (target <= 1 s), and the
 * diff engine alone over the same objects. Run: npm exec -- tsx bench/drift.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { diffObject } from '../src/tools/deploys/drift/index.js';
import { startKubernetesEmulator } from '../src/sandbox/kubernetes/emulator.js';
import type { KubeObject } from '../src/sandbox/kubernetes/types.js';
import { detectDrift } from '../src/tools/deploys/detect-drift.js';
import { median, round } from './stats.js';
import { deploymentManifest, depsOver, timed } from './deploys-fixture.js';

const OBJECTS = 1000;
const NAMESPACES = Array.from({ length: 10 }, (_, i) => `team-${i}`);
const out = (line: string) => process.stdout.write(line + '\n');

// A GitOps repository's mix: one Deployment in ten, the rest ConfigMaps and Services. (The
// emulator's rollout controller makes seeding thousands of Deployments slow; the diff is per object.)
const desired = Array.from({ length: OBJECTS }, (_, i) => {
  const ns = NAMESPACES[i % NAMESPACES.length]!;
  if (i % 10 === 0) return deploymentManifest(ns, `svc-${i}`, i, 1);
  if (i % 2 === 0)
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: ns, labels: { 'app.kubernetes.io/name': `svc-${i}` } },
      spec: {
        selector: { 'app.kubernetes.io/name': `svc-${i}` },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      },
    };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cfg-${i}`, namespace: ns },
    data: { LOG_LEVEL: 'info', FEATURES: 'a,b,c', TIMEOUT_MS: String(1000 + i) },
  };
});
// Live: the same objects, one in twenty edited by hand.
const live = desired.map((d, i) => {
  const o = structuredClone(d) as KubeObject & { spec: { replicas: number } };
  if (i % 20 === 0 && o.kind === 'Deployment') o.spec.replicas = 5;
  if (i % 20 === 1 && o.kind === 'ConfigMap')
    (o as unknown as { data: Record<string, string> }).data.LOG_LEVEL = 'debug';
  return o;
});
const dir = mkdtempSync(join(tmpdir(), 'day2-bench-drift-'));
for (const ns of NAMESPACES)
  writeFileSync(
    join(dir, `${ns}.yaml`),
    desired
      .filter((d) => (d.metadata as { namespace: string }).namespace === ns)
      .map((d) => stringify(d))
      .join('---\n'),
  );

const k = await startKubernetesEmulator({ objects: live, timing: { readyDelayMs: 1 } });
try {
  k.settle();
  const { ctx } = await depsOver(k, NAMESPACES, { desired_state: dir });
  await detectDrift.run({ env: 'prod' }, ctx); // warm-up: client and module loading
  const samples: number[] = [];
  let drifted = 0;
  for (let i = 0; i < 7; i++) {
    const r = await timed(() => detectDrift.run({ env: 'prod' }, ctx));
    samples.push(r.ms);
    drifted = r.value.counts.drifted;
  }
  const tool = median(samples);
  const liveObjs = [
    ...k.store.list('apps/v1', 'Deployment'),
    ...k.store.list('v1', 'Service'),
    ...k.store.list('v1', 'ConfigMap'),
  ];
  const byName = new Map(liveObjs.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  const engine: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    for (const d of desired)
      diffObject(
        d,
        byName.get(`${d.kind as string}/${(d.metadata as { name: string }).name}`) as unknown as Record<
          string,
          unknown
        >,
      );
    engine.push(performance.now() - t);
  }
  out(
    `detect_drift, ${OBJECTS} objects in ${NAMESPACES.length} namespaces (${drifted} drifted): median ${round(tool, 1)} ms over ${samples.length} runs (target <= 1000 ms: ${tool <= 1000 ? 'pass' : 'FAIL'})`,
  );
  out(`diff engine alone, ${OBJECTS} objects: median ${round(median(engine), 2)} ms`);
} finally {
  await k.close();
  rmSync(dir, { recursive: true, force: true });
}
