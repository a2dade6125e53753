import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../core/clock.js';
import { dropConnection, FaultInjector } from '../faults.js';
import { applyDefaults } from './admission.js';
import { ApiServer } from './api-server.js';
import { ObjectStore } from './object-store.js';
import { findByKind } from './resources.js';
import { RolloutController, type RolloutTiming } from './rollout-controller.js';
import { KubeApiError, statusBody } from './status.js';
import type { ServingTls } from './tls.js';
import type { KubeObject } from './types.js';

export interface KubernetesEmulatorOptions {
  /** Objects present at start (namespaces are created for any namespace they name). */
  objects?: KubeObject[];
  /** Images whose containers crash-loop when started. */
  badImages?: string[];
  /** Image (without digest) → the last thing its crashing container prints (its log and termination message). */
  crashMessages?: Record<string, string>;
  /** Image (without digest) → an error its running containers log about once a minute (a bad release that serves errors). */
  errorMessages?: Record<string, string>;
  clock?: Clock;
  /** Bearer token the server accepts; a random one by default. */
  token?: string;
  /**
   * Serve HTTPS with this certificate, as a real API server does (issueServingTls makes one);
   * plain HTTP without it.
   */
  tls?: ServingTls;
  timing?: Partial<RolloutTiming>;
}

/** Raw object access for test setup and assertions (bypasses HTTP, counts no writes). */
export interface EmulatorStore {
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  put(obj: KubeObject): KubeObject;
}

export interface KubernetesEmulator {
  url: string;
  token: string;
  /** The CA certificate (PEM) that signed the serving certificate, when the emulator serves HTTPS. */
  ca?: string;
  /** A KubeConfig (context "sandbox") pointing at the emulator with its bearer token (and CA). */
  kubeConfig(): Promise<KubeConfig>;
  store: EmulatorStore;
  /** Mutating requests that changed state (dry runs and no-ops excluded). */
  readonly writes: number;
  faults: FaultInjector;
  /** Finishes pending pod starts and lets doomed rollouts reach ProgressDeadlineExceeded now. */
  settle(): void;
  close(): Promise<void>;
}

const NAMESPACE = findByKind('v1', 'Namespace')!;

/**
 * Starts a Kubernetes API server emulator on 127.0.0.1 (a free port) that speaks enough of the
 * real REST protocol for @kubernetes/client-node to work against it unmodified.
 */
export async function startKubernetesEmulator(
  opts: KubernetesEmulatorOptions = {},
): Promise<KubernetesEmulator> {
  const clock = opts.clock ?? systemClock;
  const token = opts.token ?? `sandbox-${Math.random().toString(36).slice(2)}`;
  const store = new ObjectStore(clock);
  const timing: RolloutTiming = {
    readyDelayMs: 50,
    crashIntervalMs: 40,
    msPerDeadlineSecond: 1,
    ...opts.timing,
  };
  const controller = new RolloutController(
    store,
    new Set(opts.badImages ?? []),
    timing,
    new Map(Object.entries(opts.crashMessages ?? {})),
  );
  const api = new ApiServer(store, controller, new Map(Object.entries(opts.errorMessages ?? {})));
  const faults = new FaultInjector();
  seed(store, opts.objects ?? []);
  controller.reconcileAll();
  controller.settle();

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void serve(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        send(
          res,
          500,
          statusBody(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`),
        );
    });
  };
  const server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    : createServer(handler);
  server.keepAliveTimeout = 1000;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const fault = await faults.decide(method, url.pathname + url.search);
    if (fault.kind === 'drop') return dropConnection(req, res);
    if (fault.kind === 'status') {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
      return send(
        res,
        fault.status,
        fault.body ?? faultStatus(fault.status, fault.retryAfterSeconds),
        headers,
      );
    }
    if (req.headers.authorization !== `Bearer ${token}`)
      return send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    try {
      const out = api.handle({
        method,
        path: url.pathname,
        query: url.searchParams,
        contentType: req.headers['content-type'] ?? 'application/json',
        userAgent: req.headers['user-agent'] ?? '',
        body,
      });
      if (out.text !== undefined) sendText(res, out.status, out.text);
      else send(res, out.status, out.body);
    } catch (err) {
      if (err instanceof KubeApiError) return send(res, err.code, err.toStatus());
      throw err;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ca = opts.tls?.ca;

  return {
    url,
    token,
    ca,
    async kubeConfig() {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          ca
            ? {
                name: 'sandbox',
                server: url,
                caData: Buffer.from(ca).toString('base64'),
                skipTLSVerify: false,
              }
            : { name: 'sandbox', server: url, skipTLSVerify: true },
        ],
        users: [{ name: 'sandbox', token }],
        contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'sandbox', namespace: 'default' }],
        currentContext: 'sandbox',
      });
      return kc;
    },
    store: {
      get: (apiVersion, kind, ns, name) => store.get(type(apiVersion, kind), ns, name),
      list: (apiVersion, kind, ns) => store.list(type(apiVersion, kind), ns),
      put: (obj) => {
        const stored = store.putRaw(obj);
        if (obj.kind === 'Deployment') controller.reconcile(stored.metadata.namespace!, stored.metadata.name);
        return stored;
      },
    },
    get writes() {
      return api.writes;
    },
    faults,
    settle: () => controller.settle(),
    async close() {
      controller.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function type(apiVersion: string, kind: string) {
  const rt = findByKind(apiVersion, kind);
  if (!rt) throw new Error(`the emulator does not serve ${apiVersion} ${kind}`);
  return rt;
}

function seed(store: ObjectStore, objects: KubeObject[]): void {
  const namespaces = new Set(['default', 'kube-system']);
  for (const o of objects) if (o.metadata.namespace) namespaces.add(o.metadata.namespace);
  for (const o of objects) if (o.kind === 'Namespace') namespaces.delete(o.metadata.name);
  for (const ns of namespaces)
    store.put(NAMESPACE, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
      status: { phase: 'Active' },
    });
  for (const o of objects) {
    const rt = type(o.apiVersion, o.kind);
    const copy = structuredClone(o);
    copy.metadata.namespace ??= rt.namespaced ? 'default' : undefined;
    applyDefaults(rt, copy);
    if (['Deployment', 'ReplicaSet', 'HorizontalPodAutoscaler'].includes(rt.kind))
      copy.metadata.generation ??= 1;
    const stored = store.put(rt, copy);
    // put keeps managedFields out of the object; ownership lives beside it, as the seed says.
    if (o.metadata.managedFields)
      store.fieldManagers(rt, stored.metadata.namespace, stored.metadata.name).load(o.metadata.managedFields);
  }
}

function faultStatus(code: number, retryAfterSeconds?: number): Record<string, unknown> {
  if (code === 429) {
    return statusBody(
      429,
      'TooManyRequests',
      'the server has received too many requests and has asked us to try again later',
      { causes: [{ message: 'injected throttle' }], retryAfterSeconds: retryAfterSeconds ?? 1 },
    );
  }
  if (code === 503)
    return statusBody(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
  if (code === 504)
    return statusBody(
      504,
      'Timeout',
      'the server was unable to return a response in the time allotted, but may still be processing the request',
    );
  return statusBody(code, 'InternalError', 'Internal error occurred: injected fault');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain',
    'Content-Length': Buffer.byteLength(text),
    'Audit-Id': crypto.randomUUID(),
  });
  res.end(text);
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Audit-Id': crypto.randomUUID(),
    ...headers,
  });
  res.end(text);
}
