import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { applyDefaults, specChanged, validate } from './admission.js';
import type { ObjectStore } from './object-store.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import {
  discoveryDocument,
  findByKind,
  findByPlural,
  groupList,
  groupVersion,
  RESOURCE_TYPES,
  type ResourceType,
} from './resources.js';
import type { RolloutController } from './rollout-controller.js';
import { FieldSelector, LabelSelector } from './selectors.js';
import { alreadyExists, badRequest, conflict, KubeApiError, notFound } from './status.js';
import { clone, isObject, type KubeObject } from './types.js';
import { podMetrics } from './pod-metrics.js';
import { podLog } from './pod-logs.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  userAgent: string;
  body: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  /** Sent as text/plain instead of `body` as JSON (pod logs). */
  text?: string;
}

interface Target {
  rt: ResourceType;
  ns?: string;
  name?: string;
  sub?: string;
}

const NAMESPACE = findByKind('v1', 'Namespace')!;
const WITH_GENERATION = new Set(['Deployment', 'ReplicaSet', 'HorizontalPodAutoscaler']);

/**
 * REST semantics of the API server over the object store: discovery, get/list (selectors,
 * pagination), create/replace/patch/delete with dryRun, resourceVersion preconditions,
 * defaulting and validation, the scale and status subresources, server-side apply.
 */
export class ApiServer {
  writes = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly controller: RolloutController,
    /** Image (without digest) → the error its running containers keep logging. */
    private readonly errorMessages: ReadonlyMap<string, string> = new Map(),
  ) {}

  handle(req: ApiRequest): ApiResponse {
    const doc = this.discovery(req);
    if (doc) return { status: 200, body: doc };
    const target = parseTarget(req.path);
    if (!target)
      throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    const dry = req.query.get('dryRun');
    if (dry !== null && dry !== 'All')
      throw badRequest(`Invalid dryRun parameter: "${dry}": supported values: "All"`);
    const dryRun = dry === 'All';
    const { rt, name, sub } = target;
    const mutating = req.method !== 'GET';
    if (mutating && rt.readOnly) throw this.methodNotAllowed(req);
    if (
      rt.namespaced &&
      target.ns !== undefined &&
      mutating &&
      !this.store.get(NAMESPACE, undefined, target.ns)
    ) {
      throw notFound(NAMESPACE, target.ns);
    }
    if (sub && !(rt.subresources ?? []).includes(sub))
      throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    if (!name) {
      if (req.method === 'GET') return { status: 200, body: this.list(target, req.query) };
      if (req.method === 'POST') return this.create(target, parseBody(req), dryRun, req);
      throw this.methodNotAllowed(req);
    }
    if (sub === 'scale') return this.scale(target, req, dryRun);
    if (sub === 'log') {
      if (req.method !== 'GET') throw this.methodNotAllowed(req);
      return {
        status: 200,
        body: undefined,
        text: podLog(this.get(target), req.query, new Date(this.store.now()), this.errorMessages),
      };
    }
    switch (req.method) {
      case 'GET':
        return { status: 200, body: this.get(target) };
      case 'PUT':
        return this.replace(target, parseBody(req), dryRun, req);
      case 'PATCH':
        return this.patch(target, req, dryRun);
      case 'DELETE':
        return this.remove(target, dryRun);
      default:
        throw this.methodNotAllowed(req);
    }
  }

  private discovery(req: ApiRequest): unknown {
    if (req.method !== 'GET') return undefined;
    const p = req.path.replace(/\/$/, '');
    if (p === '/api')
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
      };
    if (p === '/apis') return groupList();
    if (p === '/version')
      return { major: '1', minor: '35', gitVersion: 'v1.35.0-day2-sandbox', platform: 'linux/amd64' };
    if (p === '/api/v1') return discoveryDocument('', 'v1');
    const m = p.match(/^\/apis\/([^/]+)\/([^/]+)$/);
    if (m) return discoveryDocument(m[1]!, m[2]!) ?? undefined;
    return undefined;
  }

  private get(t: Target): KubeObject {
    if (t.rt.kind === 'PodMetrics') {
      const found = podMetrics(this.store, t.ns).find((m) => m.metadata.name === t.name);
      if (!found) throw notFound(t.rt, t.name!);
      return found;
    }
    const o = this.store.get(t.rt, t.ns, t.name!);
    if (!o) throw notFound(t.rt, t.name!);
    return o;
  }

  private list(t: Target, q: URLSearchParams): Record<string, unknown> {
    const labels = LabelSelector.parse(q.get('labelSelector'));
    const fields = FieldSelector.parse(q.get('fieldSelector'));
    const all = (
      t.rt.kind === 'PodMetrics' ? podMetrics(this.store, t.ns) : this.store.list(t.rt, t.ns)
    ).filter((o) => labels.matches(o.metadata.labels) && fields.matches(o));
    let start = 0;
    let listRv = this.store.resourceVersion;
    const cont = q.get('continue');
    if (cont) {
      try {
        const tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as {
          rv: string;
          after: string;
        };
        start = all.findIndex((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > tok.after);
        if (start < 0) start = all.length;
        listRv = tok.rv;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
    }
    const limit = Number(q.get('limit') ?? 0);
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const remaining = all.length - start - page.length;
    const metadata: Record<string, unknown> = { resourceVersion: listRv };
    if (limit > 0 && remaining > 0) {
      const last = page[page.length - 1]!;
      metadata.continue = Buffer.from(
        JSON.stringify({ rv: listRv, after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` }),
      ).toString('base64url');
      metadata.remainingItemCount = remaining;
    }
    return {
      kind: `${t.rt.kind}List`,
      apiVersion: groupVersion(t.rt),
      metadata,
      items: page.map((o) => {
        const { apiVersion: _a, kind: _k, ...rest } = o;
        return rest;
      }),
    };
  }

  private create(t: Target, body: unknown, dryRun: boolean, req: ApiRequest): ApiResponse {
    const obj = this.checkBody(t, body);
    if (!obj.metadata.name && typeof obj.metadata.generateName === 'string') {
      obj.metadata.name = `${obj.metadata.generateName}${randomUUID().replace(/-/g, '').slice(0, 5)}`;
    }
    if (t.rt.namespaced) obj.metadata.namespace = t.ns;
    if (this.store.get(t.rt, t.ns, obj.metadata.name)) throw alreadyExists(t.rt, obj.metadata.name);
    return { status: 201, body: this.commit(t.rt, undefined, obj, dryRun, managerOf(req), 'Update') };
  }

  private replace(
    t: Target,
    body: unknown,
    dryRun: boolean,
    req: ApiRequest,
    old = this.get(t),
  ): ApiResponse {
    const obj = this.checkBody(t, body);
    if (obj.metadata.name !== t.name) {
      throw badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${t.name})`,
      );
    }
    const next =
      t.sub === 'status'
        ? { ...old, status: obj.status }
        : t.sub === undefined && 'status' in old
          ? { ...obj, status: old.status }
          : obj;
    return { status: 200, body: this.update(t, old, next, dryRun, managerOf(req), 'Update') };
  }

  private patch(t: Target, req: ApiRequest, dryRun: boolean): ApiResponse {
    const ct = req.contentType.split(';')[0]!.trim();
    const existing = this.store.get(t.rt, t.ns, t.name!);
    if (ct === 'application/apply-patch+yaml') return this.apply(t, req, dryRun, existing);
    if (!existing) throw notFound(t.rt, t.name!);
    const body = parseBody(req);
    let next: unknown;
    const base = existing;
    switch (ct) {
      case 'application/merge-patch+json':
        next = mergePatch(base, body);
        break;
      case 'application/strategic-merge-patch+json':
        next = strategicMergePatch(base, body);
        break;
      case 'application/json-patch+json':
        next = jsonPatch(base, body);
        break;
      default:
        throw new KubeApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        );
    }
    if (!isObject(next) || !isObject(next.metadata))
      throw badRequest('the patch produced an object without metadata');
    const obj = next as KubeObject;
    if (t.sub === 'status') obj.spec = existing.spec;
    else if ('status' in existing) obj.status = existing.status;
    return { status: 200, body: this.update(t, existing, obj, dryRun, managerOf(req), 'Update') };
  }

  private apply(t: Target, req: ApiRequest, dryRun: boolean, existing: KubeObject | undefined): ApiResponse {
    const manager = req.query.get('fieldManager');
    if (!manager) throw badRequest('PATCH /' + req.path + ': fieldManager is required for apply requests');
    let applied: unknown;
    try {
      applied = parseYaml(req.body);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isObject(applied) || !isObject(applied.metadata))
      throw badRequest("Object 'metadata' is missing in the apply request");
    const obj = applied as KubeObject;
    if (obj.apiVersion !== groupVersion(t.rt) || obj.kind !== t.rt.kind) {
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${groupVersion(t.rt)})`,
      );
    }
    if (obj.metadata.name !== t.name)
      throw badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${t.name})`,
      );
    if (
      existing &&
      obj.metadata.resourceVersion &&
      obj.metadata.resourceVersion !== existing.metadata.resourceVersion
    )
      throw conflict(t.rt, t.name);
    const managers = this.store.fieldManagers(t.rt, t.ns, t.name);
    const force = req.query.get('force') === 'true';
    // A dry run must not record ownership: it applies against a copy of the manager table.
    const scratch = dryRun ? managers.copy() : managers;
    const merged = scratch.apply(manager, groupVersion(t.rt), this.store.now(), existing, obj, force, {
      name: t.name,
      ...(t.rt.group ? { group: t.rt.group } : {}),
      kind: t.rt.plural,
    });
    if (t.rt.namespaced) merged.metadata.namespace = t.ns;
    if (existing && 'status' in existing) merged.status = existing.status;
    if (!existing)
      return { status: 201, body: this.commit(t.rt, undefined, merged, dryRun, manager, 'Apply') };
    return { status: 200, body: this.update(t, existing, merged, dryRun, manager, 'Apply') };
  }

  private remove(t: Target, dryRun: boolean): ApiResponse {
    const o = this.get(t);
    if (!dryRun) {
      this.store.delete(t.rt, t.ns, t.name!);
      this.writes++;
      if (t.rt.kind === 'Deployment') this.controller.deleted(o);
      if (t.rt.kind === 'Namespace')
        for (const rt of RESOURCE_TYPES.filter((r) => r.namespaced))
          for (const x of this.store.list(rt, t.name)) this.store.delete(rt, t.name, x.metadata.name);
    }
    return {
      status: 200,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: {
          name: t.name,
          ...(t.rt.group ? { group: t.rt.group } : {}),
          kind: t.rt.plural,
          uid: o.metadata.uid,
        },
      },
    };
  }

  private scale(t: Target, req: ApiRequest, dryRun: boolean): ApiResponse {
    const d = this.get({ ...t, sub: undefined });
    const current = toScale(d);
    if (req.method === 'GET') return { status: 200, body: current };
    let next: unknown;
    if (req.method === 'PUT') next = parseBody(req);
    else if (req.method === 'PATCH') {
      const ct = req.contentType.split(';')[0]!.trim();
      const body = parseBody(req);
      next =
        ct === 'application/json-patch+json'
          ? jsonPatch(current, body)
          : ct === 'application/strategic-merge-patch+json'
            ? strategicMergePatch(current, body)
            : mergePatch(current, body);
    } else throw this.methodNotAllowed(req);
    const scale = next as {
      metadata?: { name?: string; resourceVersion?: string };
      spec?: { replicas?: unknown };
    };
    if (req.method === 'PUT' && scale.metadata?.name !== t.name) {
      throw badRequest(
        `the name of the object (${scale.metadata?.name ?? ''}) does not match the name on the URL (${t.name})`,
      );
    }
    const replicas = scale.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new KubeApiError(
        422,
        'Invalid',
        `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        {
          name: t.name,
          group: 'autoscaling',
          kind: 'Scale',
          causes: [
            {
              reason: 'FieldValueInvalid',
              message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
              field: 'spec.replicas',
            },
          ],
        },
      );
    }
    const updated = clone(d);
    (updated.spec as { replicas: number }).replicas = replicas;
    updated.metadata.resourceVersion = scale.metadata?.resourceVersion ?? '';
    const stored = this.update({ ...t, sub: undefined }, d, updated, dryRun, managerOf(req), 'Update');
    return { status: 200, body: toScale(stored) };
  }

  /** Shared update path: precondition, defaulting, validation, generation, no-op detection, commit. */
  private update(
    t: Target,
    old: KubeObject,
    next: KubeObject,
    dryRun: boolean,
    manager: string,
    op: 'Update' | 'Apply',
  ): KubeObject {
    const rv = next.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(t.rt, t.name!);
    next.metadata = {
      ...next.metadata,
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      namespace: old.metadata.namespace,
      name: old.metadata.name,
    };
    if (WITH_GENERATION.has(t.rt.kind)) {
      next.metadata.generation = (old.metadata.generation ?? 1) + (specChanged(old, next) ? 1 : 0);
    }
    return this.commit(t.rt, old, next, dryRun, manager, op);
  }

  private commit(
    rt: ResourceType,
    old: KubeObject | undefined,
    obj: KubeObject,
    dryRun: boolean,
    manager: string,
    op: 'Update' | 'Apply',
  ): KubeObject {
    obj.apiVersion = groupVersion(rt);
    obj.kind = rt.kind;
    applyDefaults(rt, obj);
    if (!old && WITH_GENERATION.has(rt.kind)) obj.metadata.generation = 1;
    const err = validate(rt, obj, old);
    if (err) throw err;
    if (old && sameContent(old, obj)) return old;
    if (dryRun) {
      const preview = clone(obj);
      preview.metadata.uid ??= randomUUID();
      preview.metadata.creationTimestamp ??= this.store.now();
      if (!old) delete preview.metadata.resourceVersion;
      else preview.metadata.resourceVersion = old.metadata.resourceVersion;
      return preview;
    }
    if (!old && rt.kind === 'Deployment') obj.status = {};
    delete obj.metadata.resourceVersion;
    const stored = this.store.put(rt, obj);
    if (op === 'Update')
      this.store
        .fieldManagers(rt, stored.metadata.namespace, stored.metadata.name)
        .recordUpdate(manager, groupVersion(rt), this.store.now(), old, stored);
    this.writes++;
    if (rt.kind === 'Deployment') this.controller.reconcile(stored.metadata.namespace!, stored.metadata.name);
    return this.store.get(rt, stored.metadata.namespace, stored.metadata.name)!;
  }

  private checkBody(t: Target, body: unknown): KubeObject {
    if (!isObject(body)) throw badRequest('the body of the request was not a JSON object');
    const obj = body as KubeObject;
    obj.metadata = isObject(obj.metadata) ? obj.metadata : ({} as KubeObject['metadata']);
    if (obj.kind && obj.kind !== t.rt.kind && !(t.sub === 'status')) {
      throw badRequest(
        `the API version in the data (${obj.apiVersion}) does not match the expected API version (${groupVersion(t.rt)})`,
      );
    }
    if (t.rt.namespaced && obj.metadata.namespace && obj.metadata.namespace !== t.ns) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    return obj;
  }

  private methodNotAllowed(req: ApiRequest): KubeApiError {
    return new KubeApiError(
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource`,
      { causes: [{ message: req.method }] },
    );
  }
}

function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const c = clone(o);
    delete c.metadata.resourceVersion;
    delete c.metadata.managedFields;
    return JSON.stringify(sortKeys(c));
  };
  return strip(a) === strip(b);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

function managerOf(req: ApiRequest): string {
  const fm = req.query.get('fieldManager');
  if (fm) return fm;
  return req.userAgent.split('/')[0] || 'unknown';
}

function parseBody(req: ApiRequest): unknown {
  if (!req.body) throw badRequest('the body of the request was empty');
  try {
    return JSON.parse(req.body);
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${(e as Error).message}`);
  }
}

function toScale(d: KubeObject): Record<string, unknown> {
  const spec = d.spec as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (d.status ?? {}) as { replicas?: number };
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: d.metadata.name,
      namespace: d.metadata.namespace,
      uid: d.metadata.uid,
      resourceVersion: d.metadata.resourceVersion,
      creationTimestamp: d.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: {
      replicas: status.replicas ?? 0,
      selector: LabelSelector.format(spec.selector?.matchLabels ?? {}),
    },
  };
}

/** Maps a URL path to the resource type, namespace, name and subresource it addresses. */
export function parseTarget(path: string): Target | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return undefined;
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    ns = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = rest;
  if (!plural || extra.length > 0) return undefined;
  const rt = findByPlural(group, version, plural);
  if (!rt) return undefined;
  if (ns !== undefined && !rt.namespaced) return undefined;
  if (!rt.namespaced && plural === 'namespaces' && name && sub) return undefined;
  if (rt.namespaced && ns === undefined && name) return undefined;
  return { rt, ns, name, sub };
}
