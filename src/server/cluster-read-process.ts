import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { environmentConfig } from '../config/lookup.js';
import type { Logger } from '../core/log.js';
import { sdkImported } from '../providers/sdk-loads.js';
import { supervise } from '../sandbox/local-service.js';
import { scanBindings, type BindingScan, type ScanBindings } from '../tools/access/reaper.js';
import type { Backends } from '../providers/backends.js';
import type { Config } from '../config/schema.js';

/** What another day2 process needs to reach the same backends: see BuiltBackends.connection. */
export interface BackendConnection {
  config: Config;
  baseDir: string;
  env: NodeJS.ProcessEnv;
}

/** How often the clusters are read from a child process: a safety net, not the reaper's clock. */
export const CHILD_SCAN_INTERVAL_MS = 10 * 60_000;

const scanSchema = z.object({
  bindings: z.array(
    z.object({
      env: z.string(),
      binding: z.object({
        namespace: z.string(),
        name: z.string(),
        role: z.object({ kind: z.string(), name: z.string() }),
        subjects: z.array(
          z.object({
            kind: z.enum(['User', 'Group', 'ServiceAccount']),
            name: z.string(),
            namespace: z.string().optional(),
          }),
        ),
        labels: z.record(z.string(), z.string()),
        annotations: z.record(z.string(), z.string()),
        createdAt: z.string().optional(),
      }),
    }),
  ),
  gaps: z.array(z.object({ env: z.string(), error: z.string() })),
});

/** Deployments and their labels (KubernetesWorkloadLabels), as another process wrote them. */
export const workloadLabelsSchema = z.array(
  z.object({
    env: z.string(),
    namespace: z.string(),
    name: z.string(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
);

const answerSchema = z.object({
  workloads: z
    .object({
      workloads: workloadLabelsSchema,
      gaps: z.array(z.object({ env: z.string(), error: z.string() })),
    })
    .optional(),
  bindings: scanSchema.optional(),
});

/** The child's entry, src/cli/cluster-read-child: .ts under tsx, .js when built. */
function childEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return fileURLToPath(
    new URL(`../cli/cluster-read-child${self.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
  );
}

/** Node flags for the child: this process's, and tsx for the .ts entry where it has none (tests). */
function childFlags(): string[] {
  const flags = process.execArgv.filter((a) => !/^--inspect/.test(a));
  const fromSource = childEntry().endsWith('.ts');
  return fromSource && !flags.some((f) => f.includes('tsx')) ? [...flags, '--import', 'tsx'] : flags;
}

/**
 * The reaper's cluster scan for `day2 serve`. The official Kubernetes client holds about 65 MB
 * once loaded; an idle server has not loaded it, and a safety net for grants whose store record
 * was lost should not load it into the server for good. So:
 * - once this process has the client (a tool used Kubernetes), the scan runs here, every pass;
 * - otherwise it runs in a short-lived child process (src/cli/cluster-read-child.ts) that reads and exits,
 *   at the first pass and then at most every `intervalMs`. The store's grants are reaped every
 *   pass either way; revoking a grant loads the client here, as any Kubernetes write does.
 * The child is one of this process's: its process group ends if this process dies (the process
 * reaper), and is ended with its process group when the reaper stops (the signal) and after
 * `timeoutMs`.
 */
export function childProcessBindingScan(opts: {
  backends: Backends;
  connection: BackendConnection;
  log: Logger;
  intervalMs?: number;
  timeoutMs?: number;
  /**
   * The bindings the start-up read found (readClustersAtStart), moments before the reaper's first
   * pass: that pass takes them instead of starting a child of its own.
   */
  first?: BindingScan;
}): ScanBindings {
  const interval = opts.intervalMs ?? CHILD_SCAN_INTERVAL_MS;
  let lastChildScan = -Infinity;
  let first = opts.first;
  return async (envs, signal) => {
    const withK8s = envs.filter((e) => opts.backends.has(e, 'kubernetes'));
    if (withK8s.length === 0) return { bindings: [], gaps: [] };
    if (sdkImported('kubernetes')) return scanBindings(opts.backends, withK8s);
    if (performance.now() - lastChildScan < interval) return undefined;
    lastChildScan = performance.now();
    if (first) {
      const scan = first;
      first = undefined;
      return scan;
    }
    const timeoutMs = opts.timeoutMs ?? Math.max(60_000, 4 * opts.connection.config.backends.timeout);
    try {
      const answer = answerSchema.parse(
        await readInChild(opts.connection, ['bindings'], withK8s, signal, timeoutMs),
      );
      if (!answer.bindings) throw new Error('the answer has no bindings');
      return answer.bindings;
    } catch (err) {
      const error = `cluster scan process: ${err instanceof Error ? err.message : String(err)}`;
      if (!signal.aborted) opts.log.warn('access reaper: clusters not read', { error });
      return { bindings: [], gaps: withK8s.map((env) => ({ env, error })) };
    }
  };
}

/**
 * What a server reads of its clusters at start-up, in one child process: the catalog's live labels
 * and, for the access reaper's first pass, the day2 RoleBindings. Each environment is bounded by
 * the backends' timeout there, the whole read by that plus a minute for the child's start. A child
 * that fails is a failure of every environment, as a cluster that does not answer is, and leaves
 * the reaper to read the bindings itself.
 */
export async function readClustersAtStart(
  connection: BackendConnection,
  envs: string[],
  timeoutMs: number,
): Promise<{
  workloads: z.infer<typeof workloadLabelsSchema>;
  failures: { env: string; error: string }[];
  bindings?: BindingScan;
}> {
  try {
    const answer = answerSchema.parse(
      await readInChild(
        connection,
        ['workloads', 'bindings'],
        envs,
        new AbortController().signal,
        timeoutMs + 60_000,
      ),
    );
    if (!answer.workloads || !answer.bindings) throw new Error('the answer is incomplete');
    return {
      workloads: answer.workloads.workloads,
      failures: answer.workloads.gaps,
      bindings: answer.bindings,
    };
  } catch (err) {
    const error = `cluster read process: ${err instanceof Error ? err.message : String(err)}`;
    return { workloads: [], failures: envs.map((env) => ({ env, error })) };
  }
}

/** Runs cluster-read-child for the reads in `read` over `envs`; its JSON answer, unchecked. */
async function readInChild(
  connection: BackendConnection,
  read: ('bindings' | 'workloads')[],
  envs: string[],
  signal: AbortSignal,
  timeoutMs: number,
): Promise<unknown> {
  if (signal.aborted) throw new Error('stopped');
  const config = {
    ...connection.config,
    environments: Object.fromEntries(envs.map((e) => [e, environmentConfig(connection.config, e)])),
  };
  const child = spawn(
    process.execPath,
    // The server's loader flags (tsx when run from source), not a debugger's.
    [...childFlags(), childEntry()],
    // Its own process group, for the process reaper; its log goes to the server's stderr.
    { stdio: ['pipe', 'pipe', 'inherit'], env: connection.env, detached: true },
  );
  supervise(child);
  // 'close' comes once the process has exited and its output is all read; 'error' when it could
  // not start (EMFILE, ENOENT), in which case nothing else ever comes.
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const ended = new Promise<string>((resolve) => {
    child.once('close', (code, sig) => resolve(sig ? `killed by ${sig}` : `exit code ${code}`));
    child.once('error', (err) => {
      child.stdout.destroy();
      resolve(err.message);
    });
  });
  const stop = () => void stopGroup(child);
  signal.addEventListener('abort', stop, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, timeoutMs);
  try {
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify({ config, baseDir: connection.baseDir, read }));
    const how = await ended;
    if (signal.aborted) throw new Error('stopped');
    if (how !== 'exit code 0')
      throw new Error(
        timedOut ? `did not finish within ${timeoutMs / 1000} s` : `ended (${how}) without an answer`,
      );
    return JSON.parse(out) as unknown;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
    await stopGroup(child);
  }
}

/**
 * SIGTERM to the child's whole process group (a kubeconfig's exec credential plugin runs in it),
 * SIGKILL after 5 s; resolves once the child has exited, at once if it never started.
 */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is gone.
    }
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
