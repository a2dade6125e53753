/**
 * The change ledger at scale: `list_changes` over 10,000 rollouts (1,000 Deployments with 10
 * ReplicaSet revisions each, spread over 30 days) and 50,000 audit records (on the real SQLite
 * store: reads, and 5,000 day2 writes with their outcomes and approvals), plus 200 silences and
 * 100 downtimes. Kubernetes, Alertmanager and Datadog are in-process fakes, so the figures are
 * day2's own work: the store queries, the merge of every source, paging and the byte budget.
 * Run: npm exec -- tsx bench/changes.ts
 *  - list_changes, default window (24 h), warm p50 <= 100 ms
 *  - the same over 7 and 30 days (then every audit record is in the window: p50 <= 100 ms too),
 *    and for one service
 *  - search_audit over the same 50,000 records: the first page with its total, cold (the whole
 *    log counted) and warm (the count kept, only records since counted), and with an outcome
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { buildRuntime } from '../src/server/build-runtime.js';
import { createServer } from '../src/server/create-server.js';
import { silentLogger } from '../src/core/log.js';
import { Redactor } from '../src/core/redact.js';
import { openStore } from '../src/store/open-store.js';
import type { AuditInput } from '../src/store/store.js';
import type { BackendName, Backends } from '../src/providers/backends.js';
import type { DeploymentInfo, RevisionInfo } from '../src/providers/kubernetes/types.js';
import type { Silence } from '../src/providers/alertmanager/types.js';
import type { DatadogDowntime } from '../src/providers/datadog/types.js';
import { syntheticFleet } from '../src/sandbox/fleet/synthetic.js';
import { fakeProdConfig, fakeProvider } from './fake-backend.js';
import { median, percentile, round } from './stats.js';

const DEPLOYMENTS = 1000;
const REVISIONS = 10;
const AUDIT_RECORDS = 50_000;
const WRITES = 5000;
const DAY = 86_400_000;
const out = (line: string) => process.stdout.write(line + '\n');

const now = Date.now();
const fleet = syntheticFleet({ services: DEPLOYMENTS, podsPerService: 1 });
const env = fleet.fleet.environments.prod!;
const iso = (ms: number) => new Date(ms).toISOString();

// Kubernetes: every Deployment with REVISIONS ReplicaSets, the newest current, one rollout every
// three days or so, the newest within the last day for a tenth of them.
const deployments: DeploymentInfo[] = [];
const revisions = new Map<string, RevisionInfo[]>();
env.deployments.forEach((d, i) => {
  const newest = now - ((i * 7919) % 30) * DAY - (i % 10 === 0 ? 0 : DAY) - 60_000;
  const image = (r: number) => `${d.image.split(':')[0]}:1.${r}.0`;
  deployments.push({
    namespace: d.namespace,
    name: d.name,
    uid: `uid-${d.name}`,
    resourceVersion: '1',
    generation: REVISIONS,
    observedGeneration: REVISIONS,
    replicas: d.replicas,
    currentReplicas: d.replicas,
    readyReplicas: d.replicas,
    updatedReplicas: d.replicas,
    availableReplicas: d.replicas,
    images: [{ container: d.container, image: image(REVISIONS) }],
    revision: REVISIONS,
    labels: { ...d.labels, 'app.kubernetes.io/managed-by': 'argocd' },
    annotations: {},
    selector: `app.kubernetes.io/name=${d.name}`,
    conditions: [],
    resources: [],
    managers: [
      {
        manager: 'argocd-controller',
        operation: 'Update',
        time: iso(newest),
        fields: [['spec', 'template', 'spec', 'containers', { key: 'name', value: d.container }, 'image']],
      },
    ],
  });
  const list = revisions.get(d.namespace) ?? [];
  for (let r = 1; r <= REVISIONS; r++)
    list.push({
      revision: r,
      replicaSet: `${d.name}-${r}`,
      deployment: d.name,
      images: [{ container: d.container, image: image(r) }],
      replicas: r === REVISIONS ? d.replicas : 0,
      createdAt: iso(newest - (REVISIONS - r) * 3 * DAY),
      changeCause: `argocd: sync ${d.name} 1.${r}.0`,
      revisionHistory: [],
      annotations: {},
    });
  revisions.set(d.namespace, list);
});
const silences: Silence[] = Array.from({ length: 200 }, (_, i) => ({
  id: `sil-${i}`,
  state: i < 20 ? 'active' : 'expired',
  matchers: [
    { name: 'service', value: env.deployments[i]!.name, isRegex: false, isEqual: true },
    { name: 'env', value: 'prod', isRegex: false, isEqual: true },
  ],
  startsAt: iso(now - i * 3 * 3_600_000),
  endsAt: iso(now - i * 3 * 3_600_000 + 3_600_000),
  createdBy: `oncall-${i % 7}`,
  comment: 'known issue, fix in progress',
}));
const downtimes: DatadogDowntime[] = Array.from({ length: 100 }, (_, i) => ({
  id: `dt-${i}`,
  scope: `env:prod service:${env.deployments[i]!.name}`,
  monitorId: null,
  monitorTags: [`service:${env.deployments[i]!.name}`],
  start: iso(now - i * 7 * 3_600_000),
  end: iso(now - i * 7 * 3_600_000 + 7_200_000),
  message: 'maintenance window',
  status: i < 5 ? 'active' : 'ended',
  canceled: null,
  created: iso(now - i * 7 * 3_600_000),
}));

const backends = {
  has: (e: string, b: BackendName) => e === 'prod' && ['kubernetes', 'datadog', 'alertmanager'].includes(b),
  kubernetes: () =>
    fakeProvider<ReturnType<Backends['kubernetes']>>({
      namespaces: env.namespaces,
      listDeployments: (ns?: string) =>
        Promise.resolve(deployments.filter((d) => ns === undefined || d.namespace === ns)),
      listReplicaSets: (ns: string) => Promise.resolve(revisions.get(ns) ?? []),
    }),
  alertmanager: () =>
    fakeProvider<ReturnType<Backends['alertmanager']>>({ listSilences: () => Promise.resolve(silences) }),
  datadog: () =>
    fakeProvider<ReturnType<Backends['datadog']>>({ listDowntimes: () => Promise.resolve(downtimes) }),
} as unknown as Backends;

// The audit log: reads, and day2's writes (execute + outcome) with an approval each, over 30 days.
const dir = mkdtempSync(join(tmpdir(), 'day2-bench-changes-'));
const storePath = join(dir, 'day2.db');
const t0 = performance.now();
{
  const store = await openStore(storePath);
  const items: { input: AuditInput; ts: string }[] = [];
  const writeEvery = Math.floor(AUDIT_RECORDS / WRITES);
  let writes = 0;
  for (let i = 0; i < AUDIT_RECORDS; i++) {
    const at = now - 30 * DAY + Math.floor((i / AUDIT_RECORDS) * 30 * DAY);
    const d = env.deployments[i % env.deployments.length]!;
    const base = { principal: `agent-${i % 13}`, env: 'prod', service: d.name };
    if (i % writeEvery === 0 && writes < WRITES) {
      const id = `apr_bench${String(writes).padStart(6, '0')}`;
      const digest = `digest-${writes}`;
      const write = {
        ...base,
        tool: 'scale_deployment',
        targets: [{ kind: 'Deployment', namespace: d.namespace, name: d.name }],
        action_digest: digest,
        approval: { id },
      };
      items.push({ input: { ...write, event: 'tool.execute' }, ts: iso(at) });
      items.push({
        input: { ...write, event: 'tool.outcome', outcome: { ok: true, duration_ms: 40 } },
        ts: iso(at + 1),
      });
      if (writes >= WRITES - 300) {
        const req = await store.createApproval({
          id,
          tool: 'scale_deployment',
          env: 'prod',
          service: d.name,
          action_digest: digest,
          requester: base.principal,
          summary: `scale ${d.namespace}/${d.name} in prod from 2 to 3 replicas`,
          args: {},
          plan: {},
          policy: {
            rule: 'default-writes',
            approvals_needed: 1,
            distinct_from_requester: true,
            reason_required: false,
            channels: ['cli'],
            notify_owners: false,
            version: 'default',
            hash: 'bench',
          },
          created_at: iso(at - 60_000),
          expires_at: iso(at + 15 * 60_000),
        });
        await store.decideApproval(
          req.request.id,
          { principal: `sre-${writes % 5}`, decision: 'approve', at: iso(at - 30_000), channel: 'cli' },
          iso(at - 30_000),
          15 * 60_000,
        );
      }
      writes++;
      i++;
    } else items.push({ input: { ...base, event: 'tool.call', tool: 'get_service' }, ts: iso(at) });
    if (items.length >= 500) await store.appendAuditBatch!(items.splice(0));
  }
  if (items.length) await store.appendAuditBatch!(items);
  await store.close();
}
out(
  `seeded ${AUDIT_RECORDS.toLocaleString('en')} audit records (${WRITES.toLocaleString('en')} writes) and ${(DEPLOYMENTS * REVISIONS).toLocaleString('en')} rollouts in ${round((performance.now() - t0) / 1000, 1)} s`,
);

const config = fakeProdConfig(env.namespaces);
const rt = await buildRuntime({
  loaded: { config, baseDir: dir, store: storePath },
  log: silentLogger,
  redactor: new Redactor(),
  env: process.env,
  backends,
  catalog: fleet.catalog,
});
const server = createServer(rt, { principal: { id: 'bench', transport: 'stdio' } });
const [a, b] = InMemoryTransport.createLinkedPair();
const client = new Client({ name: 'bench', version: '1' });
await Promise.all([server.connect(a), client.connect(b)]);

async function measure(
  label: string,
  args: Record<string, unknown>,
  runs: number,
  target?: number,
  tool = 'list_changes',
) {
  const call = () => client.callTool({ name: tool, arguments: args });
  for (let i = 0; i < 3; i++) await call(); // warm: JIT, the store's pages
  const xs: number[] = [];
  let last: Awaited<ReturnType<typeof call>> | undefined;
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    last = await call();
    xs.push(performance.now() - s);
  }
  const sc = last?.structuredContent as
    { total?: number; total_at_most?: number; changes?: unknown[]; actions?: unknown[] } | undefined;
  const text = (last?.content as { text: string }[] | undefined)?.[0]?.text ?? '';
  const p50 = median(xs);
  const rows = sc?.changes ?? sc?.actions;
  const what = tool === 'list_changes' ? 'changes in the window' : 'actions match';
  out(
    `${label}: p50 ${round(p50, 1)} ms, p95 ${round(percentile(xs, 95), 1)} ms; ${sc?.total ?? `at most ${sc?.total_at_most ?? '?'}`} ${what}, ${rows?.length ?? '?'} on the page, ${Buffer.byteLength(JSON.stringify(sc))} B JSON, ${Buffer.byteLength(text)} B text${target ? ` (target p50 <= ${target} ms: ${p50 <= target ? 'pass' : 'FAIL'})` : ''}`,
  );
}

try {
  // What changed today, the ledger's everyday question: every ReplicaSet is still read and every
  // rollout's history walked; the store reads the day's records.
  await measure('list_changes prod, default window (24 h)', { env: 'prod' }, 30, 100);
  await measure('list_changes prod, 7 days', { env: 'prod', since: '7d' }, 30);
  // Every audit record falls in the window: the store walks its event index (executes, outcomes).
  await measure(
    'list_changes prod, 30 days (all 50,000 records in the window)',
    { env: 'prod', since: '30d' },
    30,
    100,
  );
  await measure(
    'list_changes prod, one service, 30 days',
    { env: 'prod', service: env.deployments[7]!.name, since: '30d' },
    30,
  );
  // The audit log one action per line, with its total. The first call with a filter set counts
  // the whole log; later ones add the records since (every call appends its own).
  const cold = performance.now();
  const first = await client.callTool({ name: 'search_audit', arguments: { principal: 'bench' } });
  out(
    `search_audit, first page and total, cold (all 50,000 records counted): ${round(performance.now() - cold, 1)} ms, total ${(first.structuredContent as { total?: number }).total}`,
  );
  await measure('search_audit, first page and total, warm', {}, 30, 100, 'search_audit');
  await measure('search_audit, one outcome (failed)', { outcome: 'failed' }, 10, undefined, 'search_audit');
} finally {
  await client.close();
  await rt.close();
  rmSync(dir, { recursive: true, force: true });
}
