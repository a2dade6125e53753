import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { descendants, running } from '../../fixtures/process-tree.js';
import { REPO } from '../../fixtures/test-env.js';

/**
 * The access reaper's safety net (day2 RoleBindings whose store record was lost) without the
 * Kubernetes client in the server: `serve --sandbox` on a fleet of other conventions reads its
 * clusters from short-lived child processes, and an expired day2 RoleBinding that its store never
 * knew is revoked and audited. Until then the server process has not loaded the client; which
 * process loaded what is read from test/fixtures/trace-imports.ts.
 */
const work = mkdtempSync(join(tmpdir(), 'day2-reaper-scan-'));
const trace = join(work, 'imports.txt');
const NORTH = join(REPO, 'test/fixtures/fleets/north.yaml');
let client: Client | undefined;
let serverPid: number | undefined;

afterAll(async () => {
  await client?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Polls `ok` every 100 ms until it holds; fails, naming `what`, after `timeoutMs`. */
async function until(ok: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Module URLs each process loaded, by pid. */
function importsByPid(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  if (!existsSync(trace)) return out;
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const [pid, url] = line.split(' ');
    if (!pid || !url) continue;
    out.set(Number(pid), [...(out.get(Number(pid)) ?? []), url]);
  }
  return out;
}
const loadsKubernetesClient = (urls: string[] = []) =>
  urls.some((u) => u.includes('/@kubernetes/client-node/dist/index.js'));
const scanProcesses = () =>
  [...importsByPid()]
    .filter(([, urls]) => urls.some((u) => u.includes('cluster-read-child')))
    .map(([p]) => p);

async function kubectl(kubeconfig: string, args: string[], input?: string) {
  const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    env: { PATH: process.env.PATH, HOME: work },
    timeout: 20_000,
  });
  child.stdin?.end(input ?? '');
  return new Promise<{ code: number; out: string; err: string }>((resolve) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

describe('the access reaper reads the clusters from a child process', () => {
  it(
    'revokes an expired binding the store never knew, without the Kubernetes client in the server',
    { timeout: 120_000 },
    async () => {
      const config = join(work, 'day2.yaml');
      writeFileSync(config, 'access:\n  reap_interval: 300ms\n  scan_interval: 1s\n');
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [
          '--import',
          join(REPO, 'test/fixtures/trace-imports.ts'),
          '--import',
          'tsx',
          'src/cli/main.ts',
          'serve',
          '--sandbox',
          '--fleet',
          NORTH,
          '--config',
          config,
          '--toolsets',
          'all',
        ],
        cwd: REPO,
        env: {
          ...(process.env as Record<string, string>),
          DAY2_STORE: join(work, 'day2.db'),
          DAY2_SANDBOX_POSTGRES: 'off',
          DAY2_TEST_IMPORT_TRACE: trace,
          DAY2_LOG_LEVEL: 'info',
        },
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      client = new Client({ name: 'reaper-scan-test', version: '1.0.0' });
      await client.connect(transport);
      serverPid = transport.pid ?? undefined;
      expect(serverPid).toBeDefined();
      await until(() => stderr.includes('backends ready'), 60_000, 'backends ready');
      const dir = /files in ([^\s)]+)\)/.exec(stderr)?.[1];
      expect(dir, stderr).toBeDefined();

      // Two scans have run, each in a process of its own, and the server has no Kubernetes client.
      await until(() => scanProcesses().length >= 2, 30_000, 'two cluster scans');
      expect(scanProcesses()).not.toContain(serverPid);
      expect(loadsKubernetesClient(importsByPid().get(serverPid!))).toBe(false);
      expect(scanProcesses().some((pid) => loadsKubernetesClient(importsByPid().get(pid)))).toBe(true);

      // A day2 RoleBinding that expired an hour ago, in the first namespace of an environment the
      // sandbox wrote: its grant id is nowhere in the store.
      const written = parse(readFileSync(join(dir!, 'day2.yaml'), 'utf8')) as {
        environments: Record<string, { kubernetes?: { kubeconfig: string; namespaces: string[] } }>;
      };
      const [env, k8s] = Object.entries(written.environments).find(
        ([, e]) => e.kubernetes?.namespaces.length,
      )!;
      const namespace = k8s.kubernetes!.namespaces[0]!;
      const kubeconfig = k8s.kubernetes!.kubeconfig;
      const expired = new Date(Date.now() - 3_600_000).toISOString();
      const binding = {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: {
          name: 'day2-view-lost-grant',
          namespace,
          labels: { 'day2.dev/managed-by': 'day2', 'day2.dev/grant-id': 'grant-lost-1' },
          annotations: {
            'day2.dev/grant-id': 'grant-lost-1',
            'day2.dev/principal': 'contractor@example.org',
            'day2.dev/expires-at': expired,
            'day2.dev/granted-at': new Date(Date.now() - 7_200_000).toISOString(),
            'day2.dev/granted-by': 'someone',
            'day2.dev/reason': 'a grant whose store record was lost',
            'day2.dev/role': 'view',
          },
        },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'contractor@example.org' }],
      };
      const created = await kubectl(
        kubeconfig,
        ['create', '--validate=false', '-f', '-'],
        JSON.stringify(binding),
      );
      expect(created.code, created.err).toBe(0);

      // The next scan finds it; the server revokes it (loading the client then, as any write does).
      await until(
        async () =>
          (await kubectl(kubeconfig, ['get', 'rolebinding', 'day2-view-lost-grant', '-n', namespace]))
            .code !== 0,
        30_000,
        'the expired RoleBinding to be deleted',
      );
      const grants = (await client.callTool({
        name: 'list_access_grants',
        arguments: { include_revoked: true },
      })) as CallToolResult;
      const text = grants.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
      expect(text).toContain('grant-lost-1');
      expect(text).toContain(`${env}/${namespace}`);
      expect(text).toMatch(/grant-lost-1.*\[revoked\]/);

      // The catalog came from the fleet's files as the fleet names them, not as paths here.
      const listed = await client.readResource({ uri: 'day2://services' });
      const first = (
        JSON.parse((listed.contents[0] as { text: string }).text) as { services: { name: string }[] }
      ).services[0]!.name;
      const service = await client.readResource({ uri: `day2://services/${first}` });
      const sources = (JSON.parse((service.contents[0] as { text: string }).text) as { sources: string[] })
        .sources;
      expect(sources.length).toBeGreaterThan(0);
      for (const source of sources) expect(source).not.toMatch(/^\//);

      // No scan process outlives its pass.
      const scans = scanProcesses();
      // Once the server has the client (it revoked with it), it reads the clusters itself.
      await until(() => scans.every((p) => !running(p)), 10_000, 'scan processes to end');
      expect(scanProcesses()).toEqual(scans);
      expect(descendants(serverPid!).filter((p) => scans.includes(p))).toEqual([]);
    },
  );
});
